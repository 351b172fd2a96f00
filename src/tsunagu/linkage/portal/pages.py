"""Pages of the person's side of the linkage. Filled in by the portal work."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter
from starlette.requests import Request

from tsunagu.linkage.exchange.platform import ExchangePlatform
from tsunagu.web.context import AppContext


def router(platform_of: Callable[[Request], ExchangePlatform]) -> APIRouter:
    del platform_of
    return APIRouter(include_in_schema=False)


def install(ctx: AppContext) -> None:
    """Add this package's sections to マイページ."""
    del ctx

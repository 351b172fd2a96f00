"""The hub's HTTP endpoints (``/linkage/v1/...``). Filled in by the federation work."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter
from starlette.requests import Request

from tsunagu.linkage.exchange.platform import ExchangePlatform


def router(platform_of: Callable[[Request], ExchangePlatform]) -> APIRouter:
    del platform_of
    return APIRouter(tags=["linkage"])

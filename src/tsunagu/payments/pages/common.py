"""What every payments page (and the bank-counter API) needs from the web shell: the payments context the app
factory built, and the hub's agencies by code (names shown for the paying agency and the lookups)."""

from __future__ import annotations

from starlette.requests import Request

from tsunagu.linkage import api as linkage
from tsunagu.payments.context import PaymentsContext
from tsunagu.web.context import ctx_of


def payments_context_of(request: Request) -> PaymentsContext:
    found = ctx_of(request).extras["payments"]
    assert isinstance(found, PaymentsContext)  # noqa: S101 - set by the app factory
    return found


def agency_names() -> dict[str, str]:
    return {a.code: a.name_ja for a in linkage.agencies()}

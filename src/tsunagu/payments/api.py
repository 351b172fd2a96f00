"""Public interface of the payments domain (the only module other packages may import): the public-fund account
registry, benefit programmes and payment runs with Zengin files."""

from __future__ import annotations

from tsunagu.payments.context import REGISTRY_AGENCY, PaymentsContext, payments_context

__all__ = [
    "REGISTRY_AGENCY",
    "PaymentsContext",
    "payments_context",
]

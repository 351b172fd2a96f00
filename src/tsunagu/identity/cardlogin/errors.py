"""The refusal of a card login (also raised by the 2D-code login)."""

from __future__ import annotations

from tsunagu.kernel.errors import NotAuthenticated


class CardLoginRefused(NotAuthenticated):
    """A card login was refused; ``reason`` is a stable machine-readable word (also in the audit trail)."""

    code = "card-login-refused"
    title = "Card login refused"

    def __init__(self, detail: str, *, ja: str, reason: str) -> None:
        super().__init__(detail, ja=ja, reason=reason)
        self.reason = reason

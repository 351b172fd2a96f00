"""Typed domain errors. One shape everywhere: each maps to RFC 9457 problem+json and to a friendly page.

Every error carries a stable ``code`` (the last part of its ``type`` URI), an HTTP status, a short English
``title`` and a ``detail`` that says what is wrong and what to do. Details never contain a My Number.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """Base of every error the platform reports to a person or a client."""

    code: ClassVar[str] = "error"
    status: ClassVar[int] = 400
    title: ClassVar[str] = "The request could not be processed"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class InvalidInput(DomainError):
    code = "invalid-input"
    status = 422
    title = "Invalid input"


class InvalidIdentifier(InvalidInput):
    """An identifier (My Number, Corporate Number, local-government code, …) is malformed."""

    code = "invalid-identifier"
    title = "Invalid identifier"

    def __init__(self, kind: str, reason: str, detail: str | None = None) -> None:
        super().__init__(detail or f"Invalid {kind.replace('_', ' ')}: {reason}.", kind=kind, reason=reason)
        self.kind = kind
        self.reason = reason


class NotFound(DomainError):
    code = "not-found"
    status = 404
    title = "Not found"


class Conflict(DomainError):
    code = "conflict"
    status = 409
    title = "Conflict with the current state"


class EventOutOfOrder(Conflict):
    """A movement event does not fit the person's history (e.g. 転出 of a non-resident, 死亡 twice)."""

    code = "event-out-of-order"
    title = "Event does not fit the resident's history"


class NotAuthenticated(DomainError):
    code = "not-authenticated"
    status = 401
    title = "Login required"


class Forbidden(DomainError):
    code = "forbidden"
    status = 403
    title = "Not permitted"

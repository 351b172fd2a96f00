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

    def __init__(self, detail: str, *, ja: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.detail_ja = ja
        self.extra = extra

    @property
    def field(self) -> str | None:
        """The form field the error is about, when there is one."""
        value = self.extra.get("field")
        return value if isinstance(value, str) else None

    def message(self, lang: str) -> str:
        """The detail in the reader's language (Japanese when a Japanese text was given)."""
        return self.detail_ja if lang == "ja" and self.detail_ja else self.detail


class InvalidInput(DomainError):
    code = "invalid-input"
    status = 422
    title = "Invalid input"


class InvalidIdentifier(InvalidInput):
    """An identifier (My Number, Corporate Number, local-government code, …) is malformed."""

    code = "invalid-identifier"
    title = "Invalid identifier"

    LABELS_JA: ClassVar[dict[str, str]] = {
        "my_number": "個人番号",
        "corporate_number": "法人番号",
        "lg_code": "地方公共団体コード",
        "digits": "番号",
    }

    def __init__(self, kind: str, reason: str, detail: str | None = None) -> None:
        super().__init__(
            detail or f"Invalid {kind.replace('_', ' ')}: {reason}.",
            ja=self._japanese(kind, reason),
            kind=kind,
            reason=reason,
        )
        self.kind = kind
        self.reason = reason

    @classmethod
    def _japanese(cls, kind: str, reason: str) -> str:
        label = cls.LABELS_JA.get(kind, "番号")
        if "check digit" in reason:
            return f"{label}の検査用数字が合いません。番号を確かめてください。"
        if "digits, got" in reason or "exactly" in reason:
            return f"{label}の桁数が正しくありません。"
        return f"{label}は数字で入力してください（空白とハイフンは使えます）。"


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

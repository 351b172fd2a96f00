"""What the e-Gov 法令API Version 2 client deals in, without any I/O: law and revision IDs, a revision as
``/law_revisions`` lists it, which revision to fetch, and the errors (each with a Japanese and an English text)."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tsunagu.kernel.errors import DomainError, InvalidInput

LAW_ID = re.compile(r"^[1-5]\d{2}[0-9A-Z]{12}$")  # era digit, year, type and number: 405AC0000000088
REVISION_ID = re.compile(r"^(?P<law_id>[1-5]\d{2}[0-9A-Z]{12})_(?P<date>\d{8})_(?P<amend>[0-9A-Z]{15})$")
CURRENT = "CurrentEnforced"
ONCE_IN_FORCE = frozenset({"PreviousEnforced", "Repeal"})


class EgovError(DomainError):
    """The e-Gov law API could not give what was asked; ``detail`` in English, ``detail_ja`` in Japanese."""

    code = "egov-error"
    status = 502
    title = "The e-Gov law API could not answer"


class EgovUnavailable(EgovError):
    """No answer at all: offline, the name does not resolve, the connection was refused or timed out."""

    code = "egov-unavailable"
    status = 503
    title = "The e-Gov law API cannot be reached"


class EgovApiError(EgovError):
    """The API answered with an error status (its ``{code, message}`` shown when it sent one)."""

    code = "egov-api-error"


class EgovBadResponse(EgovError):
    """The API answered 200 with something that is not what it documents (not JSON, not a law XML)."""

    code = "egov-bad-response"


class LawNotFound(EgovError):
    code = "law-not-found"
    status = 404
    title = "No such law in the e-Gov law API"


class InvalidLawId(InvalidInput):
    code = "invalid-law-id"
    title = "Not a law ID"


@dataclass(frozen=True)
class Revision:
    """One version of a law as ``/law_revisions`` lists it."""

    law_revision_id: str
    law_id: str
    law_title: str
    amendment_enforcement_date: dt.date | None
    amendment_law_id: str | None
    amendment_law_num: str | None
    current_revision_status: str
    repeal_status: str
    updated: str  # ISO date-time as the API gives it

    @property
    def effective_date(self) -> dt.date:
        """The enforcement date, else the date in the revision ID (a scheduled date for an unenforced one)."""
        if self.amendment_enforcement_date is not None:
            return self.amendment_enforcement_date
        return dt.datetime.strptime(self.law_revision_id.split("_")[1], "%Y%m%d").date()  # noqa: DTZ007 - a date


@dataclass(frozen=True)
class Fetched:
    """A law XML file in the cache: where, how big, and whether this call had to download it."""

    law_id: str
    revision_id: str
    title: str
    path: Path
    size: int
    sha256: str
    from_cache: bool


def parse_id(text: str) -> tuple[str, str | None]:
    """``(law_id, revision_id or None)`` from a law ID (``405AC0000000088``) or a revision ID
    (``405AC0000000088_20240401_504AC0100000052``). Raises :class:`InvalidLawId`."""
    value = text.strip().upper()
    if LAW_ID.match(value):
        return value, None
    match = REVISION_ID.match(value)
    if match:
        with contextlib.suppress(ValueError):
            dt.datetime.strptime(match["date"], "%Y%m%d")  # noqa: DTZ007 - only checks the date is one
            return match["law_id"], value
    raise InvalidLawId(
        f"{text!r} is not a law ID (e.g. 405AC0000000088) nor a revision ID "
        "(e.g. 405AC0000000088_20240401_504AC0100000052)",
        ja=f"{text!r} は法令ID (例: 405AC0000000088) でも法令履歴ID (例: 405AC0000000088_20240401_504AC0100000052) "
        "でもありません",
    )


def select_revision(revisions: Sequence[Revision], asof: dt.date | None = None) -> Revision | None:
    """The version of a law to fetch. Without ``asof``: the one in force now (``CurrentEnforced``), else, for a law
    repealed or whose current text the list lacks, the newest that was ever in force. With ``asof``: the newest whose
    enforcement date is on or before it (future dates reach unenforced amendments, as the API's own ``asof`` does)."""

    def order(revision: Revision) -> tuple[dt.date, str]:
        return revision.effective_date, revision.law_revision_id

    if asof is None:
        current = [r for r in revisions if r.current_revision_status == CURRENT]
        if current:
            return max(current, key=order)
        once = [r for r in revisions if r.current_revision_status in ONCE_IN_FORCE]
        return max(once or revisions, key=order, default=None)
    return max((r for r in revisions if r.effective_date <= asof), key=order, default=None)


def revision_from_json(law_id: str, row: dict[str, Any]) -> Revision:
    revision_id = str(row["law_revision_id"])
    if not REVISION_ID.match(revision_id) or not revision_id.startswith(law_id):
        raise ValueError(f"unusable law_revision_id {revision_id!r}")
    enforced = row.get("amendment_enforcement_date")
    return Revision(
        law_revision_id=revision_id,
        law_id=law_id,
        law_title=str(row.get("law_title") or ""),
        amendment_enforcement_date=dt.date.fromisoformat(enforced) if enforced else None,
        amendment_law_id=row.get("amendment_law_id") or None,
        amendment_law_num=row.get("amendment_law_num") or None,
        current_revision_status=str(row.get("current_revision_status") or ""),
        repeal_status=str(row.get("repeal_status") or ""),
        updated=str(row.get("updated") or ""),
    )

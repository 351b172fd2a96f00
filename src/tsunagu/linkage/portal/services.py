"""自己情報: the person's own data, fetched from each agency's copy (副本) at their request, through the hub.

Each source is asked in a full exchange of its own (the portal ``MYNAPORTAL`` signs a ``SELF-INFO-01`` request
for its code of the person; the hub checks the legal-basis table, translates the code, asks the provider and logs
the exchange), so every fetch appears in やりとり履歴. Nothing fetched is stored here: the values go to the page
and are gone. A source that refuses or does not answer is reported as that source's error; the others still
show. An item the provider marked not disclosable (番号法 art. 23(2)) is never handed to the page, only the fact
that it is not shown.

Transactions: :func:`linkage.ask` runs each exchange in transactions of the platform's own (the exchange
protocol commits the hub's log before it replies), and the portal's code is issued in one too; nothing here
commits the caller's unit of work. The audit entries are written by :func:`record_fetch` in the caller's."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from tsunagu.audit import api as audit
from tsunagu.kernel.access import CitizenPrincipal
from tsunagu.linkage.core.messages import Reason
from tsunagu.linkage.errors import ExchangeRefused
from tsunagu.linkage.exchange.platform import ExchangePlatform
from tsunagu.linkage.exchange.requester import ask, new_request
from tsunagu.linkage.keys import LinkageKeys
from tsunagu.linkage.services import code_for
from tsunagu.linkage.sources import agencies, dictionary

PORTAL = "MYNAPORTAL"
BUSINESS = "SELF-INFO-01"


@dataclass(frozen=True)
class Source:
    agency: str
    items: tuple[str, ...]


SOURCES: tuple[Source, ...] = (
    Source("LG-142051-TAX", ("local_tax.income", "local_tax.deductions", "local_tax.assessment")),
    Source("JPS", ("pension.insured_status", "pension.status", "pension.benefit_amount")),
    Source("NHI-142051", ("nhi.eligibility",)),
    Source("VRS", ("vaccination.records",)),
    Source(
        "DA-KOKIN",
        ("public_fund_account.bank", "public_fund_account.account", "public_fund_account.holder"),
    ),
)


class ItemState(StrEnum):
    SHOWN = "shown"
    NOT_HELD = "not_held"  # the agency holds no record of this item for the person (記録なし)
    WITHHELD = "withheld"  # the agency marked it not disclosable to the person (開示の対象外)


@dataclass(frozen=True)
class ItemResult:
    code: str
    name_ja: str
    name_en: str
    value_type: str
    state: ItemState
    value: Any = None  # only when shown

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_ja


@dataclass(frozen=True)
class SourceResult:
    agency: str
    name_ja: str
    name_en: str
    items: tuple[ItemResult, ...] = ()
    exchange_id: str | None = None
    provided_at: dt.datetime | None = None
    error: str | None = None  # the hub's reason (``provider-unavailable``, …) when the source failed

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_ja

    @property
    def ok(self) -> bool:
        return self.error is None

    def count(self, state: ItemState) -> int:
        return sum(1 for i in self.items if i.state == state)


def _agency_names() -> dict[str, tuple[str, str]]:
    return {a.code: (a.name_ja, a.name_en) for a in agencies()}


def _item(code: str, state: ItemState, value: Any = None) -> ItemResult:
    entry = dictionary().get(code)
    if entry is None:  # pragma: no cover - SOURCES names dictionary items only
        return ItemResult(code, code, code, "text", state, value)
    return ItemResult(code, entry.name_ja, entry.name_en, entry.value_type, state, value)


def _fetch_one(
    platform: ExchangePlatform, portal_code: str, source: Source, *, by_proxy: bool
) -> SourceResult:
    ja, en = _agency_names().get(source.agency, (source.agency, source.agency))
    request = new_request(
        PORTAL, source.agency, BUSINESS, source.items, portal_code, by_proxy=by_proxy, clock=platform.clock
    )
    try:
        result = ask(platform.uow, platform.ring, platform.local_hub(), request)
    except ExchangeRefused as refused:
        return SourceResult(source.agency, ja, en, error=refused.reason)
    items: list[ItemResult] = []
    for code in source.items:
        held = result.items.get(code)
        if held is None:
            items.append(_item(code, ItemState.NOT_HELD))
        elif not held.disclose:
            items.append(_item(code, ItemState.WITHHELD))  # the value is dropped here, never shown
        else:
            items.append(_item(code, ItemState.SHOWN, held.value))
    return SourceResult(source.agency, ja, en, tuple(items), result.exchange_id, result.provided_at)


def fetch_self_information(
    platform: ExchangePlatform,
    keys: LinkageKeys,
    person_id: int,
    *,
    by_proxy: bool,
    sources: tuple[Source, ...] = SOURCES,
) -> list[SourceResult]:
    """Ask every source for the person's items, one logged exchange each; failures are per source."""
    with platform.uow() as db:
        portal_code = code_for(db, keys, PORTAL, person_id, clock=platform.clock)
    return [_fetch_one(platform, portal_code, s, by_proxy=by_proxy) for s in sources]


def record_fetch(db: Session, principal: CitizenPrincipal, results: list[SourceResult]) -> None:
    """One audit entry per source asked: which agency, which exchange, how many items, never a value."""
    for r in results:
        audit.record_citizen(
            db,
            principal,
            audit.AuditAction.LINKAGE_SELF_INFORMATION_FETCHED,
            f"person:{principal.subject_person_id}",
            agency=r.agency,
            exchange=r.exchange_id or "",
            outcome="provided" if r.ok else str(r.error),
            shown=r.count(ItemState.SHOWN),
            not_held=r.count(ItemState.NOT_HELD),
            withheld=r.count(ItemState.WITHHELD),
        )


def error_message(reason: str, lang: str) -> str:
    """What a person is told when a source could not be asked."""
    if reason in {Reason.PROVIDER_UNAVAILABLE.value, Reason.PROVIDER_ERROR.value}:
        if lang == "en":
            return "This agency did not answer. Please try again later."
        return "この機関から応答がありませんでした。時間をおいてもう一度お試しください。"
    if reason in {
        Reason.AGENCY_INACTIVE.value,
        Reason.CERTIFICATE_INVALID.value,
        Reason.UNKNOWN_AGENCY.value,
    }:
        if lang == "en":
            return "This agency is not taking part in the linkage at the moment."
        return "この機関は現在、情報連携を行っていません。"
    if lang == "en":
        return "The information could not be fetched from this agency."
    return "この機関から情報を取得できませんでした。"

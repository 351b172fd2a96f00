"""Pre-filling (once only): the values a form needs that the government already holds, fetched through the hub.

The portal (``MYNAPORTAL``) asks each agency that holds an item, under the business ``PROC-PREFILL-01`` (at the
person's request, like 自己情報), one logged exchange per agency: every fetch appears in the person's
やりとり履歴. The municipality answers the resident items from its registry; other agencies from their copies.
An item an agency does not hold, or marked not disclosable, leaves its field to be typed.

Transactions: each exchange commits in the platform's own transactions (the hub logs before it replies); the
portal's code is issued in one too. Nothing here touches the caller's unit of work."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tsunagu.linkage import api as linkage
from tsunagu.procedures.context import ProceduresContext
from tsunagu.procedures.core.catalogue import HOUSEHOLD, FieldSpec, Procedure
from tsunagu.procedures.sources import life_events
from tsunagu.registry import api as registry

PORTAL = "MYNAPORTAL"
BUSINESS = "PROC-PREFILL-01"


@dataclass(frozen=True)
class Fetched:
    """What the hub returned for one person: item → value (disclosable ones only), and the exchanges made."""

    values: Mapping[str, Any] = field(default_factory=dict)
    exchanges: tuple[str, ...] = ()
    failed: Mapping[str, str] = field(default_factory=dict)  # agency → the hub's reason

    @property
    def held(self) -> frozenset[str]:
        return frozenset(self.values)

    def members(self) -> list[dict[str, Any]]:
        household = self.values.get(HOUSEHOLD)
        members = household.get("members") if isinstance(household, dict) else None
        return [m for m in members if isinstance(m, dict)] if isinstance(members, list) else []

    def member(self, ref: str) -> dict[str, Any] | None:
        return next((m for m in self.members() if str(m.get("ref")) == ref), None)


def provider_for(item: str, lg_code: str) -> str | None:
    """The agency that holds ``item`` for a resident of ``lg_code``: the one of the item's agency type named for
    that municipality, else the only one of that type."""
    entry = linkage.dictionary().get(item)
    if entry is None:
        return None
    candidates = [a.code for a in linkage.agencies() if a.type == entry.provider_type]
    local = [c for c in candidates if lg_code in c]
    if local:
        return min(local, key=len)
    return candidates[0] if len(candidates) == 1 else None


def items_for(procedure: Procedure) -> tuple[str, ...]:
    """What a draft asks the hub for: the form's pre-filled items and, for the primary procedure of a one-stop
    (転出届, 出生届), the household and every item the event's rules look at (NHI eligibility …), so that the
    fan-out plans from the facts the government holds."""
    items = list(procedure.prefill_items())
    for event in life_events().values():
        if any(r.primary and r.procedure == procedure.id for r in event.rules):
            items.append(HOUSEHOLD)
            items += [i for r in event.rules for i in (r.holds, r.lacks) if i]
    return tuple(dict.fromkeys(items))


def fetch(
    pctx: ProceduresContext, person_id: int, items: Iterable[str], *, by_proxy: bool = False
) -> Fetched:
    """Ask the hub for ``items`` about ``person_id``: one exchange per providing agency."""
    platform = pctx.platform
    with platform.uow() as db:
        lg_code = registry.basic_facts(db, person_id).lg_code
        portal_code = linkage.code_for(db, pctx.keys, PORTAL, person_id, clock=platform.clock)
    by_agency: dict[str, list[str]] = {}
    for item in dict.fromkeys(items):
        agency = provider_for(item, lg_code)
        if agency is not None:
            by_agency.setdefault(agency, []).append(item)
    values: dict[str, Any] = {}
    exchanges: list[str] = []
    failed: dict[str, str] = {}
    for agency, asked in by_agency.items():
        request = linkage.new_request(
            PORTAL, agency, BUSINESS, tuple(asked), portal_code, by_proxy=by_proxy, clock=platform.clock
        )
        try:
            result = linkage.ask(platform.uow, platform.ring, platform.local_hub(), request)
        except linkage.ExchangeRefused as refused:
            failed[agency] = refused.reason
            continue
        exchanges.append(result.exchange_id)
        for item, held in result.items.items():
            if held.disclose:
                values[item] = held.value
    return Fetched(values, tuple(exchanges), failed)


def _at(value: Any, path: Sequence[str]) -> Any:
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def value_for(spec: FieldSpec, fetched: Fetched, subject: Mapping[str, Any] | None = None) -> Any:
    """The value of a pre-filled field, or ``None`` when the government does not hold it. With ``subject`` (a
    household member's entry, for a one-stop filing about someone else) the person's own facts come from that
    entry and the address from the applicant's record."""
    if spec.item is None:
        return None
    if subject is not None and spec.item == "resident.basic" and spec.path and spec.path[0] != "address":
        return _at(dict(subject), spec.path)
    value = _at(fetched.values.get(spec.item), spec.path)
    return value if value not in ("", None) else None


def fill(procedure: Procedure, fetched: Fetched, subject: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Field name → value for every pre-filled field the government holds."""
    out: dict[str, Any] = {}
    for spec in procedure.prefilled_fields:
        value = value_for(spec, fetched, subject)
        if value is not None:
            out[spec.name] = value
    return out

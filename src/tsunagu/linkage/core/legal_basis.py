"""The legal-basis table (別表; since the 2023 amendment of the 番号法, the 主務省令 made under art. 19(8)).

Each row permits a requester *type* to ask a provider *type* for some data items, for one business (事務), under
a cited statute. :func:`authorise` denies by default: a request passes only when one row names its business,
requester type and provider type and together the matching rows cover every item asked for. A refusal says
exactly what is missing.

The table is a CSV file (``data/legal_basis.csv``): ``#`` comment lines carry ``version`` and ``effective``
(an ISO date); ``items`` is a space-separated list of item codes from the data dictionary. Pure: parsing takes
the file's text; reading it is the caller's job."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from tsunagu.linkage.core.dictionary import AgencyType, CatalogueError, Dictionary, agency_type, read_csv

BUSINESS_CODE = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$")
FIELDS = (
    "business",
    "business_name_ja",
    "business_name_en",
    "requester_type",
    "provider_type",
    "items",
    "statute",
    "verified",
    "note",
)
META = re.compile(r"^#\s*(version|effective):\s*(\S+)\s*$")


@dataclass(frozen=True)
class LegalBasisRow:
    business: str
    business_name_ja: str
    business_name_en: str
    requester_type: AgencyType
    provider_type: AgencyType
    items: frozenset[str]
    statute: str
    verified: bool  # the citation was checked against the statute text
    note: str = ""


@dataclass(frozen=True)
class LegalBasisTable:
    version: str
    effective: dt.date
    digest: str  # SHA-256 of the file's text (UTF-8), hex: the identity of a loaded version
    rows: tuple[LegalBasisRow, ...]

    def businesses(self) -> dict[str, str]:
        """Business code → Japanese name."""
        return {r.business: r.business_name_ja for r in self.rows}


class RefusalKind(StrEnum):
    UNKNOWN_BUSINESS = "unknown-business"
    REQUESTER_NOT_PERMITTED = "requester-not-permitted"
    PROVIDER_NOT_PERMITTED = "provider-not-permitted"
    ITEMS_NOT_COVERED = "items-not-covered"
    NO_ITEMS = "no-items"


@dataclass(frozen=True)
class Decision:
    """The outcome of :func:`authorise`. When refused, ``missing`` lists what the table lacks for this request
    (item codes for ``items-not-covered``; the permitted alternatives for the other kinds are in ``permitted``)."""

    allowed: bool
    reason: str
    reason_ja: str
    refusal: RefusalKind | None = None
    missing: tuple[str, ...] = ()
    permitted: tuple[str, ...] = ()
    rows: tuple[LegalBasisRow, ...] = field(default=(), repr=False)

    @property
    def statutes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.statute for r in self.rows))


def table_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _meta(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        match = META.match(line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def _row(line: int, raw: dict[str, str], dictionary: Dictionary) -> LegalBasisRow:
    where = f"legal-basis line {line}"
    for name in FIELDS:
        if name not in raw:
            raise CatalogueError(f"{where}: column {name} is missing")
        if name != "note" and not raw[name]:
            raise CatalogueError(f"{where}: {name} is empty")
    if not BUSINESS_CODE.match(raw["business"]):
        raise CatalogueError(
            f"{where}: business code {raw['business']!r} must be upper-case letters and dashes"
        )
    provider = agency_type(raw["provider_type"], where)
    items = raw["items"].split()
    if len(set(items)) != len(items):
        raise CatalogueError(f"{where}: an item is listed twice")
    for code in items:
        item = dictionary.get(code)
        if item is None:
            raise CatalogueError(f"{where}: item {code} is not in the data dictionary")
        if item.provider_type != provider:
            raise CatalogueError(f"{where}: item {code} is provided by {item.provider_type}, not {provider}")
    if raw["verified"] not in {"yes", "no"}:
        raise CatalogueError(f"{where}: verified must be yes or no")
    return LegalBasisRow(
        raw["business"],
        raw["business_name_ja"],
        raw["business_name_en"],
        agency_type(raw["requester_type"], where),
        provider,
        frozenset(items),
        raw["statute"],
        raw["verified"] == "yes",
        raw["note"],
    )


def parse_table(text: str, dictionary: Dictionary) -> LegalBasisTable:
    """Parse and validate the table: a version and an effective date, known types and items, each item from
    its provider type, one row per (business, requester type, provider type), one name per business."""
    meta = _meta(text)
    if not meta.get("version"):
        raise CatalogueError("legal-basis table: a '# version: …' line is missing")
    try:
        effective = dt.date.fromisoformat(meta.get("effective", ""))
    except ValueError:
        raise CatalogueError("legal-basis table: '# effective: YYYY-MM-DD' is missing or invalid") from None
    rows = [_row(line, raw, dictionary) for line, raw in read_csv(text)]
    if not rows:
        raise CatalogueError("legal-basis table: no rows")
    keys: set[tuple[str, str, str]] = set()
    names: dict[str, tuple[str, str]] = {}
    for row in rows:
        key = (row.business, row.requester_type.value, row.provider_type.value)
        if key in keys:
            raise CatalogueError(f"legal-basis table: {' / '.join(key)} appears twice; merge the rows")
        keys.add(key)
        name = (row.business_name_ja, row.business_name_en)
        if names.setdefault(row.business, name) != name:
            raise CatalogueError(f"legal-basis table: business {row.business} has two different names")
    return LegalBasisTable(meta["version"], effective, table_digest(text), tuple(rows))


def _refuse(
    kind: RefusalKind, reason: str, ja: str, missing: Iterable[str], permitted: Iterable[str]
) -> Decision:
    return Decision(False, reason, ja, kind, tuple(sorted(missing)), tuple(sorted(permitted)))


def authorise(
    table: LegalBasisTable,
    requester_type: str,
    business_code: str,
    provider_type: str,
    items: Iterable[str],
) -> Decision:
    """Deny by default. Checks, in order: the business exists; the requester type may ask for it; that requester
    may ask this provider type; the rows for (business, requester, provider) cover every requested item."""
    wanted = set(items)
    if not wanted:
        return _refuse(
            RefusalKind.NO_ITEMS, "No data items were requested.", "照会する項目がありません。", (), ()
        )
    for_business = [r for r in table.rows if r.business == business_code]
    if not for_business:
        return _refuse(
            RefusalKind.UNKNOWN_BUSINESS,
            f"Business {business_code!r} is not in legal-basis table {table.version}.",
            f"事務 {business_code!r} は別表（{table.version}）にありません。",
            (business_code,),
            (),
        )
    for_requester = [r for r in for_business if r.requester_type == requester_type]
    if not for_requester:
        allowed = {r.requester_type.value for r in for_business}
        return _refuse(
            RefusalKind.REQUESTER_NOT_PERMITTED,
            f"Requester type {requester_type!r} may not query for {business_code} "
            f"(permitted: {', '.join(sorted(allowed))}).",
            f"照会者の種別 {requester_type!r} は事務 {business_code} の照会を認められていません。",
            (requester_type,),
            allowed,
        )
    matching = [r for r in for_requester if r.provider_type == provider_type]
    if not matching:
        allowed = {r.provider_type.value for r in for_requester}
        return _refuse(
            RefusalKind.PROVIDER_NOT_PERMITTED,
            f"For {business_code}, {requester_type} may not ask provider type {provider_type!r} "
            f"(permitted: {', '.join(sorted(allowed))}).",
            f"事務 {business_code} について {requester_type} は提供者 {provider_type!r} に照会できません。",
            (provider_type,),
            allowed,
        )
    covered = frozenset().union(*(r.items for r in matching))
    uncovered = wanted - covered
    if uncovered:
        return _refuse(
            RefusalKind.ITEMS_NOT_COVERED,
            f"For {business_code}, {requester_type} → {provider_type} does not cover: {', '.join(sorted(uncovered))}.",
            f"事務 {business_code} の照会で認められていない項目: {', '.join(sorted(uncovered))}",
            uncovered,
            covered,
        )
    return Decision(
        True,
        f"Permitted for {business_code} ({matching[0].business_name_en}) under {matching[0].statute}.",
        f"{matching[0].business_name_ja}（{matching[0].statute}）により認められます。",
        rows=tuple(matching),
    )

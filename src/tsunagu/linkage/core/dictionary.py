"""Agencies and their data dictionaries: which organisations take part and which items each kind provides.

Pure: parses the text of ``data/agencies.csv`` and ``data/items.csv`` (reading the files is the caller's job).
An agency code is the platform's own (``LG-142051`` for 藤沢市, ``JPS`` for 日本年金機構), independent of the
municipality a deployment serves. Items belong to an agency *type*: every municipal tax division provides the same
地方税関係情報 items."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

AGENCY_CODE = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$")
ITEM_CODE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
VALUE_TYPES = frozenset({"text", "integer", "date", "code", "record"})


class AgencyType(StrEnum):
    """Kinds of participating organisation (情報照会者・情報提供者). The legal-basis table names types."""

    MUNICIPALITY = "municipality"  # 市区町村長 (住民基本台帳, welfare, vaccination)
    MUNICIPAL_TAX = "municipal_tax"  # 市区町村の税務部門 (地方税関係情報)
    NATIONAL_TAX = "national_tax"  # 税務署 (国税庁)
    PENSION = "pension"  # 日本年金機構
    NHI_INSURER = "nhi_insurer"  # 国民健康保険の保険者
    VACCINATION_REGISTRY = "vaccination_registry"  # ワクチン接種記録システム (VRS)
    PUBLIC_FUND_REGISTRY = "public_fund_registry"  # デジタル庁 公的給付支給等口座登録簿
    PORTAL = "portal"  # マイナポータル: asks on the person's own request (自己情報), provides nothing
    HUB = "hub"  # 情報提供ネットワークシステム: signs what it forwards; never a requester or provider


class CatalogueError(ValueError):
    """A data file of the linkage domain is malformed; the message names the line and the field."""


@dataclass(frozen=True)
class DataItem:
    """One item an agency type provides (特定個人情報の項目)."""

    code: str  # ``local_tax.income``
    provider_type: AgencyType
    name_ja: str
    name_en: str
    value_type: str  # text | integer | date | code | record


@dataclass(frozen=True)
class AgencyEntry:
    """A participating organisation as listed in ``agencies.csv``."""

    code: str
    type: AgencyType
    name_ja: str
    name_en: str


@dataclass(frozen=True)
class Dictionary:
    """Every item, by code; each item is provided by exactly one agency type."""

    items: Mapping[str, DataItem]

    def provided_by(self, provider_type: AgencyType) -> list[DataItem]:
        return [i for i in self.items.values() if i.provider_type == provider_type]

    def get(self, code: str) -> DataItem | None:
        return self.items.get(code)


def read_csv(text: str) -> list[tuple[int, dict[str, str]]]:
    """Rows of a CSV text with their line numbers; lines starting with ``#`` before the header are comments."""
    lines = text.splitlines()
    skipped = 0
    while skipped < len(lines) and lines[skipped].startswith("#"):
        skipped += 1
    reader = csv.DictReader(io.StringIO("\n".join(lines[skipped:])))
    rows = []
    for row in reader:
        if None in row or any(v is None for v in row.values()):
            raise CatalogueError(f"line {reader.line_num + skipped}: wrong number of fields")
        rows.append((reader.line_num + skipped, {k: v.strip() for k, v in row.items()}))
    return rows


def agency_type(value: str, where: str) -> AgencyType:
    try:
        return AgencyType(value)
    except ValueError:
        known = ", ".join(t.value for t in AgencyType)
        raise CatalogueError(f"{where}: unknown agency type {value!r} (known: {known})") from None


def _required(row: Mapping[str, str], fields: Iterable[str], where: str) -> None:
    for field in fields:
        if not row.get(field):
            raise CatalogueError(f"{where}: {field} is empty")


def parse_items(text: str) -> Dictionary:
    """Parse ``items.csv`` (provider_type, item, name_ja, name_en, value_type)."""
    items: dict[str, DataItem] = {}
    for line, row in read_csv(text):
        where = f"items line {line}"
        _required(row, ("provider_type", "item", "name_ja", "name_en", "value_type"), where)
        code = row["item"]
        if not ITEM_CODE.match(code):
            raise CatalogueError(f"{where}: item code {code!r} is not dotted lower-case (area.item)")
        if code in items:
            raise CatalogueError(f"{where}: item {code} listed twice")
        if row["value_type"] not in VALUE_TYPES:
            raise CatalogueError(f"{where}: value_type must be one of {', '.join(sorted(VALUE_TYPES))}")
        ptype = agency_type(row["provider_type"], where)
        items[code] = DataItem(code, ptype, row["name_ja"], row["name_en"], row["value_type"])
    return Dictionary(items)


def parse_agencies(text: str) -> list[AgencyEntry]:
    """Parse ``agencies.csv`` (code, type, name_ja, name_en); codes are unique."""
    seen: set[str] = set()
    found: list[AgencyEntry] = []
    for line, row in read_csv(text):
        where = f"agencies line {line}"
        _required(row, ("code", "type", "name_ja", "name_en"), where)
        code = row["code"]
        if not AGENCY_CODE.match(code) or len(code) > 32:
            raise CatalogueError(
                f"{where}: agency code {code!r} must be upper-case letters, digits and dashes"
            )
        if code in seen:
            raise CatalogueError(f"{where}: agency {code} listed twice")
        seen.add(code)
        found.append(AgencyEntry(code, agency_type(row["type"], where), row["name_ja"], row["name_en"]))
    return found

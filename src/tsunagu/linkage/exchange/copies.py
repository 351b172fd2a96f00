"""Loading an agency's copy (副本) from a file at the registry edge: ``tsunagu linkage load AGENCY FILE``.

The file is what an agency's own system exports: one row per (person, item), the person given by My Number. The
My Number is turned into the registry person id through the registry's blind index, then into *the agency's*
code; only the code is stored with the item. The number never reaches a linkage table or a log line.

CSV, UTF-8, header ``my_number,item,value[,withhold]``: ``value`` is JSON (``3200000``, ``"1"``,
``{"basic": 430000}``); ``withhold`` is ``yes`` for an item the agency marks not disclosable to the person
(番号法 art. 23(2)). All or nothing: a bad line, an item the agency's type does not provide, or a number not on
the register refuses the whole file and names the lines (never the numbers). Loading the same file again
changes nothing."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from tsunagu.audit import api as audit
from tsunagu.kernel.clock import Clock
from tsunagu.kernel.errors import InvalidIdentifier, InvalidInput
from tsunagu.kernel.identifiers import is_valid_my_number
from tsunagu.linkage import services, sources
from tsunagu.linkage.core.dictionary import AgencyType
from tsunagu.linkage.exchange.provider import put_copy
from tsunagu.linkage.keys import LinkageKeys
from tsunagu.registry import api as registry

FIELDS = ("my_number", "item", "value")
MAX_ROWS = 1_000_000


@dataclass(frozen=True)
class LoadReport:
    agency: str
    rows: int
    persons: int
    items: int
    withheld: int


@dataclass(frozen=True)
class _Row:
    line: int
    number: str
    item: str
    value: Any
    withhold: bool


def _parse(text: str, provided: set[str]) -> list[_Row]:
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or not set(FIELDS) <= set(reader.fieldnames):
        raise InvalidInput(
            f"The header must name {', '.join(FIELDS)} (and optionally withhold).",
            ja="見出し行に my_number, item, value（任意で withhold）が必要です。",
        )
    rows: list[_Row] = []
    problems: list[str] = []
    for record in reader:
        line = reader.line_num
        if len(rows) >= MAX_ROWS:
            raise InvalidInput(
                f"More than {MAX_ROWS:,} rows: split the file.", ja="行数が多すぎます。分割してください。"
            )
        item = (record.get("item") or "").strip()
        if item not in provided:
            problems.append(f"line {line}: item {item!r} is not provided by this agency's type")
            continue
        try:
            value = json.loads(record.get("value") or "")
        except json.JSONDecodeError:
            problems.append(f'line {line}: value is not JSON (quote text: "1")')
            continue
        withhold = (record.get("withhold") or "").strip().lower()
        if withhold not in {"", "yes", "no"}:
            problems.append(f"line {line}: withhold must be yes or no")
            continue
        rows.append(_Row(line, (record.get("my_number") or "").strip(), item, value, withhold == "yes"))
    if problems:
        raise InvalidInput(
            "Nothing was loaded: " + "; ".join(problems[:10]) + (" …" if len(problems) > 10 else ""),
            ja=f"読み込みませんでした（{len(problems)} 行に誤り）: " + "; ".join(problems[:5]),
        )
    return rows


def load_copies(
    db: Session,
    keys: LinkageKeys,
    registry_ctx: registry.RegistryContext,
    agency_code: str,
    text: str,
    *,
    actor: str,
    clock: Clock | None = None,
    advance: Any = None,
) -> LoadReport:
    """Parse, resolve every number, then write every item, in the caller's transaction (all or nothing)."""
    info = services.agency_info(db, agency_code)
    provided = {i.code for i in sources.dictionary().provided_by(AgencyType(info.type))}
    rows = _parse(text, provided)
    try:
        persons = registry.person_ids_by_my_number(db, registry_ctx.keys, [r.number for r in rows])
    except InvalidIdentifier as exc:
        bad = [r.line for r in rows if not is_valid_my_number(r.number)]
        raise InvalidInput(
            f"Nothing was loaded: malformed My Number on line(s) {', '.join(map(str, bad[:10]))}.",
            ja=f"読み込みませんでした: 個人番号の形式が誤っている行 {', '.join(map(str, bad[:10]))}",
        ) from exc
    unknown = [r.line for r in rows if r.number not in persons]
    if unknown:
        raise InvalidInput(
            f"Nothing was loaded: no resident with the My Number on line(s) {', '.join(map(str, unknown[:10]))}.",
            ja=f"読み込みませんでした: 住民記録にない個人番号の行 {', '.join(map(str, unknown[:10]))}",
        )
    by_person: dict[int, tuple[dict[str, Any], set[str]]] = {}
    for r in rows:
        items, withheld = by_person.setdefault(persons[r.number], ({}, set()))
        items[r.item] = r.value
        if r.withhold:
            withheld.add(r.item)
    for person_id, (items, withheld) in by_person.items():
        code = services.code_for(db, keys, agency_code, person_id, clock=clock)
        put_copy(db, agency_code, code, items, withhold=withheld, clock=clock)
        if advance is not None:
            advance(len(items))
    report = LoadReport(agency_code, len(rows), len(by_person), len(rows), sum(r.withhold for r in rows))
    audit.record(
        db,
        actor,
        audit.AuditAction.LINKAGE_COPIES_LOADED,
        agency_code,
        rows=report.rows,
        persons=report.persons,
        withheld=report.withheld,
    )
    return report

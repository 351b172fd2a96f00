"""Reports of the review items (見直し状況の報告): CSV for Excel (UTF-8 with a BOM, CRLF, Japanese and English
headers), JSON (items and counts) and a standalone, accessible HTML page."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from html import escape
from typing import Any, Literal

from sqlalchemy.orm import Session

from tsunagu.laws.core.review import ABSENT_JA, PHASE_JA, STATUS_EN, STATUS_JA, STATUSES
from tsunagu.laws.models import ReviewItem
from tsunagu.laws.services.review import Counts, ItemFilter, ItemSummary, all_items, counts

Format = Literal["csv", "json", "html"]
FORMATS = ("csv", "json", "html")
COLUMNS = (
    ("id", "ID"),
    ("law_id", "法令ID (Law ID)"),
    ("law_title", "法令名 (Law title)"),
    ("article_label", "条項 (Provision)"),
    ("address", "アドレス (Address)"),
    ("category", "類型コード (Category code)"),
    ("category_ja", "類型 (Category)"),
    ("matched", "該当箇所 (Evidence)"),
    ("confidence", "確度 (Confidence)"),
    ("technology", "代替技術 (Suggested technology)"),
    ("status", "状態コード (Status code)"),
    ("status_ja", "状態 (Status)"),
    ("phase", "フェーズ (Phase)"),
    ("ministry", "所管府省 (Ministry)"),
    ("deadline", "期限 (Deadline)"),
    ("present", "最新版で該当 (Found in latest version)"),
    ("notes", "備考 (Notes)"),
    ("updated_at", "更新日時 (Updated)"),
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _record(summary: ItemSummary, row: ReviewItem) -> dict[str, Any]:
    return {
        "id": summary.id,
        "law_id": summary.law_id,
        "law_title": summary.law_title,
        "article_label": summary.article_label,
        "address": summary.address,
        "category": summary.category,
        "category_ja": summary.category_ja,
        "matched": summary.matched,
        "confidence": summary.confidence,
        "technology": row.technology,
        "status": summary.status,
        "status_ja": STATUS_JA.get(summary.status, summary.status),
        "phase": summary.phase,
        "ministry": summary.ministry,
        "deadline": summary.deadline.isoformat() if summary.deadline else None,
        "present": summary.present,
        "notes": row.notes,
        "updated_at": row.updated_at.isoformat(),
    }


def _cell(value: object) -> str:
    """A CSV cell; text that a spreadsheet would run as a formula starts with an apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "はい" if value else f"いいえ（{ABSENT_JA}）"
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv(records: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([header for _, header in COLUMNS])
    for record in records:
        writer.writerow([_cell(record[key]) for key, _ in COLUMNS])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def _counts_json(c: Counts) -> dict[str, Any]:
    return {
        "by_category": [
            {
                "category": r.category,
                "category_ja": r.category_ja,
                **{s: r.get(s) for s in STATUSES},
                "total": r.total,
            }
            for r in c.rows
        ],
        "totals": {**{s: c.totals.get(s) for s in STATUSES}, "total": c.totals.total},
        "absent": c.absent,
    }


def _json(records: list[dict[str, Any]], c: Counts, flt: ItemFilter) -> bytes:
    data = {
        "generated_at": dt.datetime.now(dt.UTC).isoformat(),
        "filter": {k: v for k, v in vars(flt).items() if v is not None},
        "counts": _counts_json(c),
        "items": records,
    }
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")


_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:1rem;color:#1a1a1a;background:#fff;line-height:1.5}"
    "table{border-collapse:collapse;margin:1rem 0;width:100%}"
    "th,td{border:1px solid #767676;padding:.3rem .5rem;text-align:left;vertical-align:top}"
    "caption{text-align:left;font-weight:bold;padding:.3rem 0}"
    "td.n{text-align:right}"
    ".wrap{overflow-x:auto}"
)


def _counts_table(c: Counts) -> str:
    head = "".join(
        f'<th scope="col">{STATUS_JA[s]}<br><span lang="en">{STATUS_EN[s]}</span></th>' for s in STATUSES
    )
    rows = "".join(
        f'<tr><th scope="row">{escape(r.category_ja)}</th>'
        + "".join(f'<td class="n">{r.get(s)}</td>' for s in STATUSES)
        + f'<td class="n">{r.total}</td></tr>'
        for r in c.rows
    )
    totals = (
        '<tr><th scope="row">合計 <span lang="en">Total</span></th>'
        + "".join(f'<td class="n">{c.totals.get(s)}</td>' for s in STATUSES)
        + f'<td class="n">{c.totals.total}</td></tr>'
    )
    return (
        '<div class="wrap"><table><caption>類型別・状態別の件数 <span lang="en">Items by category and status</span>'
        f"（{ABSENT_JA}: {c.absent}）</caption>"
        f'<thead><tr><th scope="col">類型 <span lang="en">Category</span></th>{head}'
        '<th scope="col">計 <span lang="en">Total</span></th></tr></thead>'
        f"<tbody>{rows}{totals}</tbody></table></div>"
    )


_HTML_COLUMNS = (
    ("law_title", "法令名", "Law"),
    ("article_label", "条項", "Provision"),
    ("category_ja", "類型", "Category"),
    ("matched", "該当箇所", "Evidence"),
    ("status_ja", "状態", "Status"),
    ("phase", "フェーズ", "Phase"),
    ("ministry", "所管府省", "Ministry"),
    ("deadline", "期限", "Deadline"),
    ("present", "最新版で該当", "In latest version"),
)


def _html_cell(key: str, record: dict[str, Any]) -> str:
    value = record[key]
    if key == "present":
        return "はい" if value else ABSENT_JA
    if key == "phase" and value is not None:
        return escape(PHASE_JA.get(value, str(value)))
    if key == "matched":
        return f"<mark>{escape(str(value))}</mark>"
    return "" if value is None else escape(str(value))


def _html(records: list[dict[str, Any]], c: Counts) -> bytes:
    head = "".join(f'<th scope="col">{ja} <span lang="en">{en}</span></th>' for _, ja, en in _HTML_COLUMNS)
    rows = "".join(
        "<tr>" + "".join(f"<td>{_html_cell(k, r)}</td>" for k, _, _ in _HTML_COLUMNS) + "</tr>"
        for r in records
    )
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    page = (
        '<!doctype html><html lang="ja"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>アナログ規制の見直し状況 / Analog regulation review</title>"
        f"<style>{_STYLE}</style></head><body><main>"
        '<h1>アナログ規制の見直し状況 <span lang="en">Analog regulation review</span></h1>'
        f'<p>作成日時 <span lang="en">Generated</span>: {stamp}。'
        f"見直し済 {c.totals.done} / {c.totals.total} 件。</p>"
        f"{_counts_table(c)}"
        f'<div class="wrap"><table><caption>見直し項目（{len(records)} 件） '
        f'<span lang="en">Review items ({len(records)})</span></caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>"
        "</main></body></html>"
    )
    return page.encode("utf-8")


def report(db: Session, flt: ItemFilter, fmt: Format) -> bytes:
    """The items matching ``flt`` (all of them, in law order) as CSV, JSON or HTML; JSON and HTML add the counts
    per category and status (of the law in the filter, or of every law)."""
    if fmt not in FORMATS:
        msg = f"unknown report format {fmt!r}: csv, json or html"
        raise ValueError(msg)
    records = [_record(summary, row) for summary, row in all_items(db, flt)]
    if fmt == "csv":
        return _csv(records)
    c = counts(db, law_id=flt.law_id)
    return _json(records, c, flt) if fmt == "json" else _html(records, c)

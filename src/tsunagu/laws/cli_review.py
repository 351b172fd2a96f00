"""``tsunagu laws import|redetect|items|item|review|report|counts``: the law-review database from the command line.

The operator acts with their own authority over the data directory (actor ``cli:<user>``). ``import`` commits each
file on its own (a file that cannot be read writes nothing; the others go on; exit 1 if any failed). Workflow
changes are refused with the reason in Japanese and English and write nothing."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session, sessionmaker

from tsunagu.clikit import DATA_DIR_HELP, domain_errors, emit, fail, operator, progress, settings_for
from tsunagu.db.engine import make_engine, make_session_factory, unit_of_work
from tsunagu.kernel.access import Permission
from tsunagu.laws.cli_scan import xml_files
from tsunagu.laws.core.review import PHASE_JA, STATUS_JA, STATUSES
from tsunagu.laws.core.rules import CATEGORIES
from tsunagu.laws.services import imports, redetect, reports, review
from tsunagu.settings import Settings

DataDir = Annotated[Path | None, typer.Option("--data-dir", help=DATA_DIR_HELP)]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
Category = Annotated[str | None, typer.Option("--category", help=f"One of: {', '.join(CATEGORIES)}.")]
Status = Annotated[
    str | None, typer.Option("--status", help="todo (未着手), decided (見直し方針決定), done (見直し済).")
]
Law = Annotated[str | None, typer.Option("--law", help="A law ID, e.g. 405AC0000000088.")]
Ministry = Annotated[str | None, typer.Option("--ministry", help="Part of the ministry (所管府省).")]
Phase = Annotated[int | None, typer.Option("--phase", min=1, max=3, help="1, 2 or 3.")]
Query = Annotated[
    str | None, typer.Option("--q", help="Text in the evidence, the provision or the law title.")
]
Absent = Annotated[
    bool,
    typer.Option("--with-absent", help="Include items the latest version no longer has (改正で該当なし)."),
]
PROGRESS_FROM = 5  # files: below this a progress bar is noise


def _sessions(settings: Settings) -> sessionmaker[Session]:
    return make_session_factory(make_engine(settings))


def _filter(
    category: str | None,
    status: str | None,
    law: str | None,
    ministry: str | None,
    phase: int | None,
    q: str | None,
    with_absent: bool,
    as_json: bool,
) -> review.ItemFilter:
    if category is not None and category not in CATEGORIES:
        fail(f"unknown category {category!r}: one of {', '.join(CATEGORIES)}", 2, as_json=as_json)
    if status is not None and status not in STATUSES:
        fail(f"unknown status {status!r}: one of {', '.join(STATUSES)}", 2, as_json=as_json)
    return review.ItemFilter(category, status, law, ministry, phase, None if with_absent else True, q)


def _file_dict(r: imports.FileResult) -> dict[str, Any]:
    data: dict[str, Any] = {
        f.name: getattr(r, f.name) for f in dataclasses.fields(r) if f.name != "error"
    }  # not asdict: it would deep-copy the exception
    data["error"] = (
        None
        if r.error is None
        else {
            "file": r.error.file,
            "line": r.error.line,
            "column": r.error.column,
            "message": r.error.message_en,
            "message_ja": r.error.message_ja,
        }
    )
    return data


def _file_line(r: imports.FileResult) -> str:
    if r.error is not None:
        e = r.error
        return f"error: {e.file}:{e.line}:{e.column}: {e.message_en} / {e.message_ja} (nothing written)"
    what = f"{r.law_id} {r.version or '-'} {r.title}"
    if r.status == "unchanged":
        return f"unchanged {what} (already imported)"
    items = (
        f"{r.new_items} new items, {r.absent_items} no longer found, {r.restored_items} found again"
        if r.latest
        else "an older version: items unchanged"
    )
    return f"imported {what}: {r.findings} findings; {items}"


def _item_dict(item: review.ItemSummary) -> dict[str, Any]:
    data = dataclasses.asdict(item)
    data["deadline"] = item.deadline.isoformat() if item.deadline else None
    if isinstance(item, review.ItemDetail):
        data["updated_at"] = item.updated_at.isoformat()
        data["events"] = [{**dataclasses.asdict(e), "at": e.at.isoformat()} for e in item.events]
    return data


def _item_line(i: review.ItemSummary) -> str:
    where = f"{i.law_title} {i.article_label}"
    gone = "  [改正で該当なし]" if not i.present else ""
    decided = f"  phase {i.phase}, {i.ministry}, by {i.deadline}" if i.phase else ""
    return f"#{i.id}  {where}  {i.category_ja}「{i.matched}」  {STATUS_JA[i.status]}{decided}{gone}"


def _detail_text(d: review.ItemDetail) -> str:
    lines = [
        _item_line(d),
        f"  law {d.law_id} ({d.law_num}), version {d.law_version}; address {d.address}",
        f"  {d.caption}" if d.caption else "",
        f"  {d.text[: d.start]}【{d.text[d.start : d.end]}】{d.text[d.end :]}",
        f"  confidence {d.confidence}, rule {d.rule}; suggested: {d.technology}",
        f"  status {d.status} ({STATUS_JA[d.status]}), may move to: {', '.join(d.next_statuses)}; "
        f"row version {d.version}",
        f"  phase {PHASE_JA[d.phase]}" if d.phase else "",
        f"  ministry {d.ministry}" if d.ministry else "",
        f"  deadline {d.deadline}" if d.deadline else "",
        f"  notes {d.notes}" if d.notes else "",
    ]
    lines += [
        f"  {e.at:%Y-%m-%d %H:%M} {e.actor}: {e.from_status} → {e.to_status} {e.changes} {e.note}".rstrip()
        for e in d.events
    ]
    return "\n".join(line for line in lines if line)


def _add_import(app: typer.Typer) -> None:
    @app.command("import")
    def import_cmd(
        paths: Annotated[list[Path], typer.Argument(help="Law XML files or folders of them.")],
        data_dir: DataDir = None,
        as_json: AsJson = False,
    ) -> None:
        """Import law XML into the review database, each file on its own: the same file again changes nothing,
        a newer version updates the law's review items, an older one is only stored. A file that cannot be read
        is reported with its line and column and writes nothing; the others go on (exit 1 if any failed)."""
        me = operator(Permission.LAWS_DOCUMENT_IMPORT)
        files = xml_files(paths)
        if not files:
            fail("no law XML files found", 2, as_json=as_json, error_code="not-found")
        settings = settings_for(data_dir)
        factory = _sessions(settings)
        with progress(
            "importing", len(files), enabled=len(files) >= PROGRESS_FROM and not as_json
        ) as advance:
            report = imports.import_files(
                lambda: unit_of_work(factory),
                files,
                actor=me.username,
                progress=lambda _done, _total, _name: advance(),
                max_bytes=settings.laws_max_file_bytes,
            )
        summary = (
            f"{len(files)} files: {report.imported} imported, {report.unchanged} unchanged, "
            f"{report.failed} failed"
        )
        emit(
            as_json,
            {
                "ok": report.ok,
                "files": len(files),
                "imported": report.imported,
                "unchanged": report.unchanged,
                "failed": report.failed,
                "results": [_file_dict(r) for r in report.results],
            },
            "\n".join([*(_file_line(r) for r in report.results), summary]),
        )
        if not report.ok:
            raise typer.Exit(1)


def _add_redetect(app: typer.Typer) -> None:
    @app.command("redetect")
    def redetect_cmd(law: Law = None, data_dir: DataDir = None, as_json: AsJson = False) -> None:
        """Run the detector's current rules again over the latest version of every imported law (or of --law)
        and update the review items as a new version would (importing the same file again changes nothing)."""
        me = operator(Permission.LAWS_DOCUMENT_IMPORT)
        with unit_of_work(_sessions(settings_for(data_dir))) as db:
            done = redetect.redetect(db, actor=me.username, law_id=law)
        lines = [
            f"{r.law_id} {r.version} {r.title}: {r.findings} findings; {r.new_items} new items, "
            f"{r.absent_items} no longer found, {r.restored_items} found again"
            for r in done
        ]
        lines.append(f"{len(done)} laws checked again")
        emit(as_json, {"ok": True, "laws": [dataclasses.asdict(r) for r in done]}, "\n".join(lines))


def _add_reading(app: typer.Typer) -> None:
    @app.command("items")
    def items_cmd(
        category: Category = None,
        status: Status = None,
        law: Law = None,
        ministry: Ministry = None,
        phase: Phase = None,
        q: Query = None,
        with_absent: Absent = False,
        offset: Annotated[int, typer.Option(min=0)] = 0,
        limit: Annotated[int, typer.Option(min=1, max=review.MAX_LIMIT)] = 50,
        data_dir: DataDir = None,
        as_json: AsJson = False,
    ) -> None:
        """Review items, in law order, filtered; one page at a time (--offset, --limit)."""
        operator(Permission.LAWS_REVIEW_READ)
        flt = _filter(category, status, law, ministry, phase, q, with_absent, as_json)
        with unit_of_work(_sessions(settings_for(data_dir))) as db:
            page = review.list_items(db, flt, offset=offset, limit=limit)
        shown = f"{offset + 1}–{offset + len(page.items)}" if page.items else "none"
        emit(
            as_json,
            {"ok": True, "total": page.total, "offset": offset, "items": [_item_dict(i) for i in page.items]},
            "\n".join([*(_item_line(i) for i in page.items), f"{shown} of {page.total} items"]),
        )

    @app.command("item")
    def item_cmd(
        item_id: Annotated[int, typer.Argument(help="The review item's id.")],
        data_dir: DataDir = None,
        as_json: AsJson = False,
    ) -> None:
        """One review item: the provision with the evidence marked, the review fields and the history."""
        operator(Permission.LAWS_REVIEW_READ)
        with unit_of_work(_sessions(settings_for(data_dir))) as db:
            found = review.get_item(db, item_id)
        if found is None:
            fail(f"no review item {item_id}", as_json=as_json, error_code="not-found")
        emit(as_json, {"ok": True, "item": _item_dict(found)}, _detail_text(found))

    @app.command("counts")
    def counts_cmd(law: Law = None, data_dir: DataDir = None, as_json: AsJson = False) -> None:
        """Present items per category and status (the progress of the review)."""
        operator(Permission.LAWS_REVIEW_READ)
        with unit_of_work(_sessions(settings_for(data_dir))) as db:
            c = review.counts(db, law_id=law)
        rows = [
            {"category": r.category, "category_ja": r.category_ja, **{s: r.get(s) for s in STATUSES}}
            for r in c.rows
        ]
        width = max(len(r.category_ja) for r in c.rows) + 2
        lines = [f"{'':<{width}}  未着手  方針決定  見直し済    計"]
        lines += [
            f"{r.category_ja:<{width}}{r.todo:>8}{r.decided:>10}{r.done:>10}{r.total:>6}"
            for r in (*c.rows, c.totals)
        ]
        lines.append(
            f"{c.totals.done} of {c.totals.total} reviewed; {c.absent} no longer found (改正で該当なし)"
        )
        emit(
            as_json,
            {
                "ok": True,
                "by_category": rows,
                "totals": {s: c.totals.get(s) for s in STATUSES} | {"total": c.totals.total},
                "absent": c.absent,
            },
            "\n".join(lines),
        )


def _deadline(value: str | None, as_json: bool) -> dt.date | review.Unset | None:
    if value is None:
        return review.UNSET
    if value == "":
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        fail(f"the deadline is YYYY-MM-DD, not {value!r}", 2, as_json=as_json, error_code="invalid-input")


def _add_review(app: typer.Typer) -> None:
    @app.command("review")
    def review_cmd(
        item_id: Annotated[int, typer.Argument(help="The review item's id.")],
        status: Status = None,
        phase: Phase = None,
        ministry: Annotated[str | None, typer.Option("--ministry", help="所管府省 ('' clears it).")] = None,
        deadline: Annotated[str | None, typer.Option("--deadline", help="YYYY-MM-DD ('' clears it).")] = None,
        notes: Annotated[str | None, typer.Option("--notes", help="備考 (replaces the notes).")] = None,
        note: Annotated[str, typer.Option("--note", help="A note for the history (needed to reopen).")] = "",
        data_dir: DataDir = None,
        as_json: AsJson = False,
    ) -> None:
        """Move an item through the workflow or change its phase, ministry, deadline or notes (the item's current
        version is used). 未着手 → 見直し方針決定 needs --phase, --ministry and --deadline."""
        me = operator(Permission.LAWS_REVIEW_WRITE)
        when = _deadline(deadline, as_json)
        with domain_errors(as_json), unit_of_work(_sessions(settings_for(data_dir))) as db:
            current = review.get_item(db, item_id)
            if current is None:
                raise review.ItemNotFound(item_id)
            done = review.update_item(
                db,
                item_id,
                actor=me.username,
                expected_version=current.version,
                status=status,
                phase=review.UNSET if phase is None else phase,
                ministry=review.UNSET if ministry is None else ministry,
                deadline=when,
                notes=review.UNSET if notes is None else notes,
                note=note,
            )
        emit(as_json, {"ok": True, "item": _item_dict(done)}, _item_line(done))


def _add_report(app: typer.Typer) -> None:
    @app.command("report")
    def report_cmd(
        fmt: Annotated[str, typer.Option("--format", help="csv (Excel), json or html.")] = "csv",
        out: Annotated[
            Path | None, typer.Option("--out", help="Write to this file (default: stdout).")
        ] = None,
        category: Category = None,
        status: Status = None,
        law: Law = None,
        ministry: Ministry = None,
        phase: Phase = None,
        q: Query = None,
        with_absent: Absent = False,
        data_dir: DataDir = None,
    ) -> None:
        """The review items (all that match the filters) as CSV for Excel (UTF-8 with a BOM), JSON or a
        standalone HTML page with the counts."""
        operator(Permission.LAWS_REVIEW_READ)
        if fmt not in reports.FORMATS:
            fail(f"unknown format {fmt!r}: csv, json or html", 2)
        flt = _filter(category, status, law, ministry, phase, q, with_absent, False)
        with unit_of_work(_sessions(settings_for(data_dir))) as db:
            data = reports.report(db, flt, fmt)  # type: ignore[arg-type]  # checked against FORMATS above
        if out is None:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        else:
            out.write_bytes(data)
            sys.stderr.write(f"wrote {out} ({len(data):,} bytes)\n")


def add_review_commands(app: typer.Typer) -> None:
    """Add ``import``, ``redetect``, ``items``, ``item``, ``counts``, ``review`` and ``report`` to ``app``."""
    _add_import(app)
    _add_redetect(app)
    _add_reading(app)
    _add_review(app)
    _add_report(app)

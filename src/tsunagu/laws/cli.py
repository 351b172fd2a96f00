"""``tsunagu laws``: read law XML files without a database: ``parse`` (what each file holds, or why it cannot be
read) and ``diff`` (what changed between two versions of a law)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from tsunagu.clikit import emit, fail, progress
from tsunagu.laws.cli_fetch import add_fetch_commands
from tsunagu.laws.cli_review import add_review_commands
from tsunagu.laws.cli_scan import add_scan_commands, xml_files
from tsunagu.laws.core.diff import DifferentLaws, diff
from tsunagu.laws.core.model import Law, LawXmlError, Provision
from tsunagu.laws.core.xmlparse import parse_law

AsJson = Annotated[bool, typer.Option("--json", help="Print a JSON object instead of text.")]
PROGRESS_FROM = 5  # files: below this a progress bar is noise


def error_dict(exc: LawXmlError) -> dict[str, Any]:
    return {
        "file": exc.file,
        "line": exc.line,
        "column": exc.column,
        "message": exc.message_en,
        "message_ja": exc.message_ja,
    }


def provision_dict(provision: Provision) -> dict[str, Any]:
    return {
        "address": provision.address,
        "part": provision.part,
        "article": provision.article,
        "paragraph": provision.paragraph,
        "items": list(provision.items),
        "caption": provision.caption,
        "title": provision.title,
        "deleted": provision.deleted,
        "sentences": [{"role": s.role, "text": s.text} for s in provision.sentences],
    }


def law_dict(file: Path, law: Law, seconds: float) -> dict[str, Any]:
    return {
        "file": str(file),
        "law_id": law.law_id,
        "version": law.version,
        "title": law.title,
        "law_num": law.law_num,
        "law_type": law.law_type,
        "articles": law.articles,
        "provisions": len(law.provisions),
        "seconds": round(seconds, 4),
    }


def build() -> typer.Typer:
    app = typer.Typer(help="Laws (法令): read the standard law XML (法令標準XML).", no_args_is_help=True)

    @app.command("parse")
    def parse_cmd(
        paths: Annotated[list[Path], typer.Argument(help="Law XML files or folders of them.")],
        with_provisions: Annotated[
            bool,
            typer.Option("--provisions", help="With --json: include every provision's address and text."),
        ] = False,
        as_json: AsJson = False,
    ) -> None:
        """Parse law XML files: law ID, title, article and provision counts, seconds per file. A file that cannot
        be read is reported with its line and column; the others are still parsed (exit 1 if any failed)."""
        files = xml_files(paths)
        if not files:
            fail("no law XML files found", 2, as_json=as_json, error_code="not-found")
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        with progress("parsing", len(files), enabled=len(files) >= PROGRESS_FROM and not as_json) as advance:
            for file in files:
                started = time.perf_counter()
                try:
                    law = parse_law(file)
                except LawXmlError as exc:
                    errors.append(error_dict(exc))
                else:
                    entry = law_dict(file, law, time.perf_counter() - started)
                    if with_provisions:
                        entry["provision_list"] = [provision_dict(p) for p in law.provisions]
                    results.append(entry)
                advance()
        seconds = sum(r["seconds"] for r in results)
        summary = {
            "ok": not errors,
            "files": len(files),
            "parsed": len(results),
            "failed": len(errors),
            "articles": sum(r["articles"] for r in results),
            "provisions": sum(r["provisions"] for r in results),
            "seconds": round(seconds, 4),
            "laws": results,
            "errors": errors,
        }
        lines = [
            f"{r['law_id']} {r['version']} {r['title']}: {r['articles']} articles, "
            f"{r['provisions']} provisions ({r['seconds']:.3f} s)"
            for r in results
        ]
        lines += [
            f"error: {e['file']}:{e['line']}:{e['column']}: {e['message']} / {e['message_ja']}"
            for e in errors
        ]
        lines.append(
            f"{len(results)} of {len(files)} files parsed: {summary['articles']} articles, "
            f"{summary['provisions']} provisions in {seconds:.2f} s"
            + (f"; {len(errors)} failed" if errors else "")
        )
        emit(as_json, summary, "\n".join(lines))
        if errors:
            raise typer.Exit(1)

    @app.command("diff")
    def diff_cmd(
        old: Annotated[Path, typer.Argument(help="The older version's XML file.")],
        new: Annotated[Path, typer.Argument(help="The newer version's XML file.")],
        as_json: AsJson = False,
    ) -> None:
        """What changed between two versions of one law: provisions added, removed and changed, by address."""
        try:
            before, after = parse_law(old), parse_law(new)
        except LawXmlError as exc:
            fail(f"{exc} / {exc.message_ja}", as_json=as_json, error_code="bad-xml")
        try:
            result = diff(before, after)
        except DifferentLaws as exc:
            fail(f"{exc}", 2, as_json=as_json, error_code="different-laws")
        data = {
            "ok": True,
            "law_id": result.law_id,
            "old_version": result.old_version,
            "new_version": result.new_version,
            "added": [{"address": p.address, "text": p.text} for p in result.added],
            "removed": [{"address": p.address, "text": p.text} for p in result.removed],
            "changed": [
                {"address": c.new.address, "old": c.old.text, "new": c.new.text} for c in result.changed
            ],
        }
        lines = [f"{result.law_id}: {result.old_version or old.name} → {result.new_version or new.name}"]
        lines += [f"+ {p.address}  {p.text}" for p in result.added]
        lines += [f"- {p.address}  {p.text}" for p in result.removed]
        for c in result.changed:
            lines += [f"~ {c.new.address}", f"    old: {c.old.text}", f"    new: {c.new.text}"]
        lines.append(
            f"{len(result.added)} added, {len(result.removed)} removed, {len(result.changed)} changed"
            if not result.unchanged
            else "no changes"
        )
        emit(as_json, data, "\n".join(lines))

    add_scan_commands(app)
    add_review_commands(app)
    add_fetch_commands(app)
    return app

"""``tsunagu laws fetch``: law XML from the e-Gov 法令API Version 2, kept in a file cache (one file per revision), and
with ``--import`` handed to the review database (:func:`tsunagu.laws.api.import_files`, each file on its own)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer

from tsunagu.clikit import DATA_DIR_HELP, emit, err, fail, operator, settings_for
from tsunagu.db.engine import make_engine, make_session_factory, unit_of_work
from tsunagu.kernel.access import Permission
from tsunagu.laws import api
from tsunagu.laws.adapters.egov import (
    DEFAULT_TIMEOUT,
    EgovError,
    EgovLawClient,
    Fetched,
    InvalidLawId,
    default_cache_dir,
    parse_id,
    write_atomic,
)
from tsunagu.settings import Settings


def _asof(value: str | None, as_json: bool) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        fail(f"--asof must be a date YYYY-MM-DD (got {value})", 2, as_json=as_json, error_code="bad-date")


def _copy_out(fetched: Fetched, out: Path) -> Path:
    """The cached file copied into ``out`` as ``{revision_id}.xml`` (atomically; the cache itself when ``out`` is
    the cache folder)."""
    target = out / f"{fetched.revision_id}.xml"
    if target.resolve() != fetched.path.resolve():
        write_atomic(target, fetched.path.read_bytes())
    return target


def _entry(fetched: Fetched, file: Path) -> dict[str, Any]:
    return {
        "law_id": fetched.law_id,
        "revision_id": fetched.revision_id,
        "title": fetched.title,
        "bytes": fetched.size,
        "sha256": fetched.sha256,
        "source": "cache" if fetched.from_cache else "network",
        "file": str(file),
    }


def _line(entry: dict[str, Any]) -> str:
    source = "キャッシュ / cache" if entry["source"] == "cache" else "取得 / network"
    return (
        f"{entry['law_id']}  {entry['title']}  {entry['revision_id']}  {entry['bytes']:,} bytes  "
        f"{source}  → {entry['file']}"
    )


def _fetch_all(
    client: EgovLawClient, law_ids: list[str], when: dt.date | None, out: Path | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Fetch each law in turn: (what was fetched, what failed and why); a failure is said on stderr at once."""
    fetched: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for law_id in law_ids:
        try:
            result = client.fetch(law_id, asof=when)
            file = _copy_out(result, out) if out else result.path
        except EgovError as exc:
            errors.append(
                {"law_id": law_id, "error": exc.code, "message": exc.detail, "message_ja": exc.detail_ja}
            )
            err.print(f"[bold red]error:[/] {exc.detail_ja} / {exc.detail}", highlight=False)
        except OSError as exc:
            errors.append({"law_id": law_id, "error": "write-failed", "message": str(exc), "message_ja": ""})
            err.print(f"[bold red]error:[/] {law_id}: 書き込めません / cannot write: {exc}", highlight=False)
        else:
            fetched.append(_entry(result, file))
    return fetched, errors


def _import(settings: Settings, files: list[Path]) -> dict[str, Any]:
    """Import the fetched files into the review database (each file commits on its own)."""
    me = operator(Permission.LAWS_DOCUMENT_IMPORT)
    factory = make_session_factory(make_engine(settings))
    report = api.import_files(
        lambda: unit_of_work(factory), files, actor=me.username, max_bytes=settings.laws_max_file_bytes
    )
    results = [
        {
            "file": r.file,
            "status": r.status,
            "law_id": r.law_id,
            "version": r.version,
            "findings": r.findings,
            "message": r.error.message_en if r.error else None,
            "message_ja": r.error.message_ja if r.error else None,
        }
        for r in report.results
    ]
    return {
        "ok": report.ok,
        "imported": report.imported,
        "unchanged": report.unchanged,
        "failed": report.failed,
        "results": results,
    }


def _import_lines(summary: dict[str, Any]) -> list[str]:
    lines = [
        f"import: {r['status']} {r['law_id'] or r['file']} {r['version'] or ''} ({r['findings']} findings)"
        if r["status"] != "failed"
        else f"import: failed {r['file']}: {r['message']} / {r['message_ja']} (nothing written)"
        for r in summary["results"]
    ]
    lines.append(
        f"import: {summary['imported']} imported, {summary['unchanged']} unchanged, {summary['failed']} failed"
    )
    return lines


def add_fetch_commands(app: typer.Typer) -> None:
    """Add ``laws fetch`` to ``app``."""

    @app.command("fetch")
    def fetch_cmd(
        law_ids: Annotated[
            list[str],
            typer.Argument(
                help="Law IDs (405AC0000000088: the version in force) or revision IDs "
                "(405AC0000000088_20240401_504AC0100000052)."
            ),
        ],
        asof: Annotated[
            str | None,
            typer.Option("--asof", help="The version in force on this date (YYYY-MM-DD) instead of today's."),
        ] = None,
        out: Annotated[
            Path | None,
            typer.Option(
                "--out", help="Also write each {revision_id}.xml into this folder (default: the cache)."
            ),
        ] = None,
        cache: Annotated[
            Path | None,
            typer.Option(
                "--cache", help="The cache folder (default: $TSUNAGU_LAWS_CACHE or ~/.cache/tsunagu/laws)."
            ),
        ] = None,
        base_url: Annotated[
            str | None,
            typer.Option("--base-url", help="The API base URL (default: $TSUNAGU_LAWS_API_URL or e-Gov's)."),
        ] = None,
        timeout: Annotated[
            float, typer.Option("--timeout", min=1, max=600, help="Seconds to wait for each answer.")
        ] = DEFAULT_TIMEOUT,
        then_import: Annotated[
            bool, typer.Option("--import", help="Then import the fetched files into the review database.")
        ] = False,
        data_dir: Annotated[Path | None, typer.Option("--data-dir", help=DATA_DIR_HELP)] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print a JSON object instead of text.")] = False,
    ) -> None:
        """Fetch law XML from the e-Gov law API (法令API Version 2) into a cache: a revision already there is not
        fetched again; for a law ID the API's revision list says which revision is in force. Prints per law the ID,
        title, revision, bytes and whether it came from the cache or the network. A law that cannot be fetched is
        reported; the others are still fetched (exit 1 if any failed). With ``--import`` the fetched files are then
        imported as ``tsunagu laws import`` does (a revision imported before changes nothing)."""
        when = _asof(asof, as_json)
        for law_id in law_ids:
            try:
                parse_id(law_id)
            except InvalidLawId as exc:
                fail(f"{exc.detail_ja} / {exc.detail}", 2, as_json=as_json, error_code=exc.code)
        settings = settings_for(data_dir)
        cache_dir = cache or settings.laws_cache or default_cache_dir()
        with EgovLawClient(base_url or settings.laws_api_url, cache_dir, timeout=timeout) as client:
            fetched, errors = _fetch_all(client, law_ids, when, out)
        network = sum(1 for f in fetched if f["source"] == "network")
        summary: dict[str, Any] = {
            "ok": not errors,
            "asof": when.isoformat() if when else None,
            "cache": str(cache_dir),
            "fetched": len(fetched),
            "from_network": network,
            "failed": len(errors),
            "laws": fetched,
            "errors": errors,
        }
        lines = [_line(f) for f in fetched]
        lines.append(
            f"{len(fetched)} of {len(law_ids)} laws: {network} from the network, "
            f"{len(fetched) - network} from the cache ({cache_dir})"
            + (f"; {len(errors)} failed" if errors else "")
        )
        if then_import and fetched:
            imported = _import(settings, [Path(f["file"]) for f in fetched])
            summary["import"] = imported
            summary["ok"] = summary["ok"] and imported["ok"]
            lines += _import_lines(imported)
        emit(as_json, summary, "\n".join(lines))
        if not summary["ok"]:
            raise typer.Exit(1)

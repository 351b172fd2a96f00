"""``tsunagu laws fetch``: law XML from the e-Gov 法令API Version 2, kept in a file cache (one file per revision)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer

from tsunagu.clikit import emit, err, fail
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
from tsunagu.settings import load_settings


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
        as_json: Annotated[bool, typer.Option("--json", help="Print a JSON object instead of text.")] = False,
    ) -> None:
        """Fetch law XML from the e-Gov law API (法令API Version 2) into a cache: a revision already there is not
        fetched again; for a law ID the API's revision list says which revision is in force. Prints per law the ID,
        title, revision, bytes and whether it came from the cache or the network. A law that cannot be fetched is
        reported; the others are still fetched (exit 1 if any failed)."""
        when = _asof(asof, as_json)
        for law_id in law_ids:
            try:
                parse_id(law_id)
            except InvalidLawId as exc:
                fail(f"{exc.detail_ja} / {exc.detail}", 2, as_json=as_json, error_code=exc.code)
        settings = load_settings()
        cache_dir = cache or settings.laws_cache or default_cache_dir()
        fetched: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        with EgovLawClient(base_url or settings.laws_api_url, cache_dir, timeout=timeout) as client:
            for law_id in law_ids:
                try:
                    result = client.fetch(law_id, asof=when)
                    file = _copy_out(result, out) if out else result.path
                except EgovError as exc:
                    errors.append(
                        {
                            "law_id": law_id,
                            "error": exc.code,
                            "message": exc.detail,
                            "message_ja": exc.detail_ja,
                        }
                    )
                    err.print(f"[bold red]error:[/] {exc.detail_ja} / {exc.detail}", highlight=False)
                    continue
                except OSError as exc:
                    errors.append(
                        {"law_id": law_id, "error": "write-failed", "message": str(exc), "message_ja": ""}
                    )
                    err.print(
                        f"[bold red]error:[/] {law_id}: 書き込めません / cannot write: {exc}", highlight=False
                    )
                    continue
                fetched.append(_entry(result, file))
        network = sum(1 for f in fetched if f["source"] == "network")
        summary = {
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
        emit(as_json, summary, "\n".join(lines))
        if errors:
            raise typer.Exit(1)

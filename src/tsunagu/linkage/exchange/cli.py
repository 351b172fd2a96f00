"""``tsunagu linkage load`` (an agency's copy from a file, at the registry edge) and ``tsunagu linkage log`` (an
agency's own log of the exchanges it took part in, or the hub's record)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import func, select

from tsunagu.clikit import DATA_DIR_HELP, domain_errors, emit, fail, operator, progress, settings_for
from tsunagu.db.engine import make_engine, make_session_factory, unit_of_work
from tsunagu.kernel.clock import Clock
from tsunagu.linkage import services
from tsunagu.linkage.exchange.copies import load_copies
from tsunagu.linkage.exchange.models import AgencyLogEntry, Exchange
from tsunagu.linkage.keys import LinkageKeys
from tsunagu.registry import api as registry

DataDir = Annotated[Path | None, typer.Option("--data-dir", help=DATA_DIR_HELP)]
AsJson = Annotated[bool, typer.Option("--json", help="Print a JSON object instead of text.")]


def register(app: typer.Typer) -> None:
    @app.command("load")
    def load(
        agency: Annotated[
            str, typer.Argument(help="The agency whose copy (副本) this is, e.g. LG-142051-TAX.")
        ],
        file: Annotated[Path, typer.Argument(help="CSV: my_number,item,value[,withhold] (value is JSON).")],
        data_dir: DataDir = None,
        as_json: AsJson = False,
    ) -> None:
        """Load an agency's copy from its export: each My Number becomes the agency's code; all or nothing."""
        try:
            text = file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"Cannot read {file}: {exc}", as_json=as_json)
        settings = settings_for(data_dir)
        engine = make_engine(settings)
        rows = max(text.count("\n") - 1, 0)
        try:
            with (
                domain_errors(as_json),
                progress(f"loading {agency}", rows, enabled=not as_json) as advance,
                unit_of_work(make_session_factory(engine)) as db,
            ):
                report = load_copies(
                    db,
                    LinkageKeys.from_master(settings.master_secret()),
                    registry.registry_context(settings, Clock()),
                    agency,
                    text,
                    actor=operator().username,
                    advance=advance,
                )
        finally:
            engine.dispose()
        emit(
            as_json,
            {"ok": True, **report.__dict__},
            f"{report.agency}: {report.items} items for {report.persons} persons loaded "
            f"({report.withheld} marked not disclosable); the file's My Numbers were not stored",
        )

    @app.command("log")
    def log(
        agency: Annotated[
            str | None, typer.Option("--agency", help="An agency's own log; without it, the hub's record.")
        ] = None,
        limit: Annotated[int, typer.Option(min=1, max=10_000)] = 20,
        data_dir: DataDir = None,
        as_json: AsJson = False,
    ) -> None:
        """The latest exchanges: as the hub recorded them, or as one agency logged them (requester or provider)."""
        engine = make_engine(settings_for(data_dir))
        rows: list[dict[str, Any]]
        try:
            with domain_errors(as_json), unit_of_work(make_session_factory(engine)) as db:
                if agency is None:
                    total = db.scalar(select(func.count()).select_from(Exchange)) or 0
                    rows = [
                        {
                            "exchange_id": e.exchange_id,
                            "leaf_index": e.leaf_index,
                            "requester": e.requester,
                            "provider": e.provider,
                            "business": e.business,
                            "items": e.items.split(),
                            "withheld": e.withheld.split(),
                            "by_proxy": e.by_proxy,
                            "requested_at": e.requested_at.isoformat(),
                            "provided_at": e.provided_at.isoformat(),
                        }
                        for e in db.scalars(select(Exchange).order_by(Exchange.id.desc()).limit(limit))
                    ]
                else:
                    services.agency_info(db, agency)  # unknown agency: a clear error
                    total = (
                        db.scalar(
                            select(func.count())
                            .select_from(AgencyLogEntry)
                            .where(AgencyLogEntry.agency == agency)
                        )
                        or 0
                    )
                    rows = [
                        {
                            "exchange_id": e.exchange_id,
                            "role": e.role,
                            "counterpart": e.counterpart,
                            "business": e.business,
                            "items": e.items.split(),
                            "withheld": e.withheld.split(),
                            "code": e.subject_code,
                            "requested_at": e.requested_at.isoformat(),
                            "provided_at": e.provided_at.isoformat(),
                        }
                        for e in db.scalars(
                            select(AgencyLogEntry)
                            .where(AgencyLogEntry.agency == agency)
                            .order_by(AgencyLogEntry.id.desc())
                            .limit(limit)
                        )
                    ]
        finally:
            engine.dispose()
        whose = f"{agency}'s log" if agency else "the hub's record"
        lines = [f"{whose}: {total} exchanges (latest {len(rows)})"]
        for r in rows:
            other = r.get("counterpart") or f"{r['requester']} → {r['provider']}"
            lines.append(
                f"{r['requested_at'][:19]}  {r.get('role', 'hub'):<9} {other:<28} {r['business']:<20} "
                + " ".join(r["items"])
                + ("  [not disclosable]" if r["withheld"] else "")
            )
        emit(as_json, {"scope": agency or "hub", "total": total, "exchanges": rows}, "\n".join(lines))

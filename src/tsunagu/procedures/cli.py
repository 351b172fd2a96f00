"""``tsunagu procedures ...``: the fan-out worker, the outbox and its dead letters, the catalogue, staff offices
and the figures per procedure.

The worker needs the registry listeners (a 特例転入 completed at the counter revokes the signature certificate):
they are wired by the shell (:mod:`tsunagu.wiring`), which a domain may not import, so the shell passes them in as
``listeners_for`` (as it does for ``tsunagu registry``)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tsunagu.clikit import DATA_DIR_HELP, domain_errors, emit, err, fail, operator, settings_for
from tsunagu.db.engine import make_engine, make_session_factory, unit_of_work
from tsunagu.identity import api as identity
from tsunagu.kernel.access import Permission
from tsunagu.kernel.clock import Clock
from tsunagu.linkage import api as linkage
from tsunagu.pki import api as pki
from tsunagu.procedures.context import ProceduresContext, procedures_context
from tsunagu.procedures.models import Outbox, StaffOffice
from tsunagu.procedures.services import backoffice, metrics, outbox
from tsunagu.procedures.sources import catalogue
from tsunagu.registry import api as registry
from tsunagu.settings import Settings

P = Permission
KILLED = 137  # the exit status of a process killed by SIGKILL, which --exit-after imitates
DataDir = Annotated[Path | None, typer.Option("--data-dir", help=DATA_DIR_HELP)]
AsJson = Annotated[bool, typer.Option("--json", help="Print a JSON object instead of text.")]
ListenersFor = Callable[[Settings, Clock, pki.TrustServices], Sequence[registry.ChangeListener]]


def _sessions(data_dir: Path | None) -> sessionmaker[Session]:
    return make_session_factory(make_engine(settings_for(data_dir)))


def _context(data_dir: Path | None, listeners_for: ListenersFor) -> ProceduresContext:
    """The procedures context as the app builds it: trust services, the exchange platform, cards, listeners."""
    settings = settings_for(data_dir)
    clock = Clock()
    sessions = make_session_factory(make_engine(settings))
    trust = pki.trust_services(settings, clock)
    platform = linkage.build_exchange(
        sessions, trust, linkage.linkage_keys(settings), clock=clock, timeout=settings.linkage_timeout
    )
    cards = identity.card_context(settings, clock, trust)
    return procedures_context(settings, clock, platform, cards, listeners_for(settings, clock, trust))


def _row(o: Outbox) -> dict[str, Any]:
    return {
        "id": o.id,
        "bundle": o.bundle_id,
        "key": o.key,
        "state": o.state,
        "attempts": o.attempts,
        "next_attempt_at": o.next_attempt_at.isoformat(),
        "last_error": o.last_error,
    }


def build(listeners_for: ListenersFor = lambda _s, _c, _t: ()) -> typer.Typer:
    """The ``procedures`` commands; the listeners (wired by the shell) hear of the registry events they record."""
    app = typer.Typer(help="Online procedures and life-event one-stops (手続).", no_args_is_help=True)
    offices_app = typer.Typer(help="Which office's queue each staff member works.", no_args_is_help=True)
    app.add_typer(offices_app, name="offices")

    @app.command("worker")
    def worker(
        data_dir: DataDir = None,
        once: Annotated[bool, typer.Option("--once", help="Work the due rows once, then exit.")] = False,
        interval: Annotated[float, typer.Option(min=0.1, help="Seconds between passes.")] = 5.0,
        exit_after: Annotated[int, typer.Option("--exit-after", hidden=True, min=0)] = 0,
    ) -> None:
        """Create the applications the one-stops derive (the outbox), each exactly once, one row per transaction.

        ``--exit-after N`` (hidden, for crash tests) ends the process abruptly with status 137, as a SIGKILL
        would, right after the N-th row's transaction committed."""
        pctx = _context(data_dir, listeners_for)
        worked = 0

        def after_each(outcome: str) -> None:
            nonlocal worked
            worked += 1
            err.print(f"outbox row {worked}: {outcome}", highlight=False)
            if exit_after and worked >= exit_after:
                os._exit(KILLED)  # no cleanup on purpose: what a killed worker leaves behind

        try:
            while True:
                done = outbox.work(pctx.platform.uow, pctx, after_each=after_each)
                err.print(f"pass: {done.done} done, {done.failed} failed, {done.dead} dead", highlight=False)
                if once:
                    break
                time.sleep(interval)
        except KeyboardInterrupt:
            err.print("worker stopped")

    @app.command("outbox")
    def outbox_cmd(
        data_dir: DataDir = None,
        dead: Annotated[bool, typer.Option("--dead", help="Only the dead letters.")] = False,
        retry: Annotated[
            int | None, typer.Option("--retry", help="Put dead row ID back in the queue.")
        ] = None,
        as_json: AsJson = False,
    ) -> None:
        """The fan-out rows not yet done (pending and dead), or retry a dead one."""
        if retry is not None:
            pctx = _context(data_dir, listeners_for)
            actor = operator(P.PROCEDURES_OUTBOX_MANAGE).username
            with pctx.platform.uow() as db:
                revived = outbox.retry(db, pctx, retry, actor)
            if not revived:
                fail(f"No dead outbox row {retry}.", as_json=as_json, error_code="not-found")
            emit(as_json, {"ok": True, "retried": retry}, f"outbox row {retry} is pending again")
            return
        states = ["dead"] if dead else ["pending", "dead"]
        with unit_of_work(_sessions(data_dir)) as db:
            rows = [
                _row(o)
                for o in db.scalars(select(Outbox).where(Outbox.state.in_(states)).order_by(Outbox.id))
            ]
        human = "\n".join(
            f"{r['id']:>6} {r['state']:<7} {r['attempts']:>2} {r['key']:<40} {r['last_error']}" for r in rows
        )
        emit(as_json, {"ok": True, "rows": rows}, human or "no pending or dead rows")

    @app.command("catalogue")
    def catalogue_cmd(as_json: AsJson = False) -> None:
        """The procedures on offer: office, assurance, fields and how many the government pre-fills."""
        rows = [
            {
                "id": p.id,
                "name_ja": p.name_ja,
                "name_en": p.name_en,
                "office": p.office("ja"),
                "agency_type": p.agency_type,
                "assurance": p.assurance.value,
                "fields": len(p.fields),
                "prefilled_fields": len(p.prefilled_fields),
            }
            for p in catalogue()
        ]
        human = "\n".join(
            f"{r['id']:<24} {r['assurance']:<9} {r['prefilled_fields']:>2}/{r['fields']:<2} "
            f"{r['name_ja']}  ({r['office']})"
            for r in rows
        )
        emit(as_json, {"ok": True, "procedures": rows}, human)

    @offices_app.command("assign")
    def offices_assign(username: str, agency: str, data_dir: DataDir = None, as_json: AsJson = False) -> None:
        """Let USERNAME work AGENCY's queue (an agency code such as LG-142051 or NHI-142051)."""
        actor = operator(P.PROCEDURES_APPLICATION_PROCESS).username
        with domain_errors(as_json), unit_of_work(_sessions(data_dir)) as db:
            added = backoffice.assign_office(db, username, agency, actor)
        note = "assigned" if added else "already assigned"
        emit(
            as_json,
            {"ok": True, "username": username, "agency": agency, "added": added},
            f"{username}: {agency} ({note})",
        )

    @offices_app.command("list")
    def offices_list(data_dir: DataDir = None, as_json: AsJson = False) -> None:
        """Every staff member's offices."""
        with unit_of_work(_sessions(data_dir)) as db:
            rows = db.execute(
                select(StaffOffice.username, StaffOffice.agency).order_by(
                    StaffOffice.username, StaffOffice.agency
                )
            ).all()
        found: dict[str, list[str]] = {}
        for username, agency in rows:
            found.setdefault(username, []).append(agency)
        human = "\n".join(f"{u:<24} {' '.join(a)}" for u, a in found.items())
        emit(as_json, {"ok": True, "offices": found}, human or "no offices assigned")

    @app.command("metrics")
    def metrics_cmd(data_dir: DataDir = None, as_json: AsJson = False) -> None:
        """Per procedure: applications, the online rate, the pre-fill ratio, times to submit and to complete."""
        with unit_of_work(_sessions(data_dir)) as db:
            figures = metrics.metrics(db)
        rows = [m.as_dict() for m in figures]

        def pct(x: float | None) -> str:
            return "-" if x is None else f"{x:.0%}"

        human = "\n".join(
            f"{m.procedure_id:<24} {m.applications:>6} online {pct(m.online_rate):>4} "
            f"prefilled {pct(m.prefill_ratio):>4} completed {m.completed:>6}"
            for m in figures
        )
        emit(as_json, {"ok": True, "procedures": rows}, human)

    return app

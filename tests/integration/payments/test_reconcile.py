"""Reconciliation: per run and per file, instructed / paid / failed / outstanding in counts and yen, and the
entitlements with no live transfer grouped by why."""

from __future__ import annotations

import csv
import io
import json

from tests.integration.payments.conftest import MAIN_BANK, OTHER_BANK, PERIOD, PROGRAMME, SPEC, TODAY, Env

from tsunagu.payments import api as payments


def limited(n: int) -> payments.RunSpec:
    return payments.RunSpec(
        SPEC.programme_id, SPEC.agency, SPEC.remitter, SPEC.name_ja, SPEC.name_en, record_limit=n
    )


def reconcile(env: Env) -> payments.ReconciliationReport:
    with env.sessions() as db:
        return payments.reconcile(db, PROGRAMME, PERIOD, today=TODAY)


def test_the_figures_of_a_period(env: Env) -> None:
    env.entitle(3, bank=OTHER_BANK, first_person=1)  # amounts 10,001 10,002 10,003
    env.entitle(1, bank=MAIN_BANK, first_person=4)  # 10,004
    env.entitle(1, first_person=10, state="declined")
    env.entitle(1, first_person=11, state="no_account", account=None)
    env.entitle(1, first_person=12, account_stale=True)
    env.entitle(1, first_person=13, state="notified", deadline=TODAY)
    report = env.run(spec=limited(2))
    first_file = (env.out / report.files[0].name).read_bytes()  # OTHER_BANK 001: persons 1 and 2
    failed_id = env.instructions()[0].id
    with env.uow() as db:
        payments.import_results(
            db,
            env.ctx,
            payments.simulate_bank(first_file, {failed_id}),
            name="r.txt",
            imported_by="t",
            spec_for=lambda _: SPEC,
        )
    got = reconcile(env)
    assert (got.entitlements.count, got.entitlements.yen) == (
        8,
        sum(10_000 + p for p in (1, 2, 3, 4, 10, 11, 12, 13)),
    )
    (r,) = got.runs
    assert (r.tally.instructed.count, r.tally.instructed.yen) == (4, 40_010)
    assert (r.tally.paid.count, r.tally.paid.yen) == (1, 10_002)
    assert (r.tally.failed.count, r.tally.failed.yen) == (1, 10_001)
    assert (r.tally.outstanding.count, r.tally.outstanding.yen) == (2, 20_007)
    by_name = {f.name: f.tally for f in r.files}
    assert [(t.paid.count, t.failed.count, t.outstanding.count) for t in by_name.values()] == [
        (1, 1, 0),
        (0, 0, 1),
        (0, 0, 1),
    ]
    why = {u.reason: (u.figures.count, u.figures.yen, u.examples) for u in got.not_instructed}
    assert set(why) == {"declined", "no_account", "stale", "waiting", "failed"}
    assert why["failed"][:2] == (1, 10_001)
    assert why["declined"][:2] == (1, 10_010)
    assert json.loads(json.dumps(got.as_dict()))["runs"][0]["tally"]["paid"] == {"count": 1, "yen": 10_002}
    assert "attempt 1" in got.text()
    assert "declined by the person" in got.text()
    raw = got.csv()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [row["level"] for row in rows][:4] == ["run", "file", "file", "file"]
    assert rows[0]["paid_yen"] == "10002"
    assert any("受給辞退" in row["reason"] for row in rows)

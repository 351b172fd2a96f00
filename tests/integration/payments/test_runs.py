"""Payment runs: idempotent, crash-safe, one file per remitting bank split at the record limit, on a bank
business day; every file validates and re-parses to the run's instructions."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from tests.integration.payments.conftest import MAIN_BANK, OTHER_BANK, SPEC, TODAY, Env

from tsunagu.payments import api as payments
from tsunagu.payments.core import zengin
from tsunagu.payments.models import Entitlement, Instruction, Run
from tsunagu.payments.services import files, runs


def transfers(env: Env) -> list[zengin.Transfer]:
    out: list[zengin.Transfer] = []
    for data in env.files().values():
        parsed = zengin.parse(data)
        assert zengin.validate(parsed) == []
        out += zengin.transfers_of(parsed)
    return out


def test_a_run_pays_every_payable_entitlement_once_into_valid_files(env: Env) -> None:
    ids = env.entitle(5)
    report = env.run()
    assert (report.attempt, report.state, report.instructions) == (1, "written", 5)
    assert report.transfer_date == dt.date(2026, 11, 30)  # Thursday + 2 business days
    assert [f.name for f in report.files] == [f"test-benefit-2026-12-a1-{OTHER_BANK}-001.txt"]
    assert set(env.states().values()) == {"instructed"}
    got = transfers(env)
    by_id = {i.id: i for i in env.instructions()}
    assert [int(t.customer_code1) for t in got] == sorted(by_id)
    assert [by_id[int(t.customer_code1)].entitlement_id for t in got] == ids
    assert {t.new_code for t in got} == {"1"}
    assert sum(t.amount for t in got) == report.total == sum(10_000 + p for p in range(1, 6))
    data = next(iter(env.files().values()))
    assert all(len(line) == zengin.RECORD for line in data.split(b"\r\n")[:-1])
    header = zengin.parse(data).records[0]
    assert (header.value("value_date"), header.value("origin_bank_code")) == ("1130", OTHER_BANK)


def test_running_again_changes_nothing_and_writes_the_same_files(env: Env) -> None:
    env.entitle(4)
    first = env.run()
    before, counts = env.files(), env.counts()
    again = env.run()
    assert (again.resumed, again.run_id, again.files) == (True, first.run_id, first.files)
    assert (env.files(), env.counts()) == (before, counts)


def test_entitlements_not_payable_are_left_alone(env: Env) -> None:
    env.entitle(1, first_person=1)
    env.entitle(1, first_person=2, state="notified", deadline=TODAY)  # the deadline has not passed
    env.entitle(1, first_person=3, state="notified")  # past the deadline: push-type, paid
    env.entitle(1, first_person=4, state="declined")
    env.entitle(1, first_person=5, account_stale=True)
    env.entitle(1, first_person=6, state="no_account", account=None)
    report = env.run()
    assert report.instructions == 2
    assert sorted(env.states().values()) == [
        "confirmed",  # stale account
        "declined",
        "instructed",
        "instructed",
        "no_account",
        "notified",
    ]


def test_crash_midway_and_rerun(env: Env, other_env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    env.entitle(7)
    other_env.entitle(7)
    other_env.run(chunk=3, spec=limited(3))  # the same run, never interrupted, in another database
    real = runs._instruct_chunk
    calls = {"n": 0}

    def crash_after_first(*args: object, **kw: object) -> int:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("killed")
        return real(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(runs, "_instruct_chunk", crash_after_first)
    with pytest.raises(RuntimeError, match="killed"):
        env.run(chunk=3, spec=limited(3))
    assert list(env.states().values()).count("instructed") == 3
    assert (env.counts()["instructions"], env.files()) == (3, {})
    monkeypatch.undo()

    real_write = files._write_file
    written = {"n": 0}

    def crash_after_first_file(*args: object, **kw: object) -> files.WrittenFile:
        if written["n"] == 1:
            raise RuntimeError("killed while writing")
        written["n"] += 1
        return real_write(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(files, "_write_file", crash_after_first_file)
    with pytest.raises(RuntimeError, match="killed while writing"):
        env.run(chunk=3, spec=limited(3))
    assert (len(env.files()), env.counts()["files"]) == (1, 1)
    partial = env.files()
    monkeypatch.undo()

    report = env.run(chunk=3, spec=limited(3))
    assert (report.resumed, report.state, report.instructions) == (True, "written", 7)
    assert (env.counts()["runs"], env.counts()["instructions"]) == (1, 7)
    got = env.files()
    assert len(got) == 3
    assert all(got[name] == data for name, data in partial.items())
    payees = [t.account_number for t in transfers(env)]
    assert len(payees) == len(set(payees)) == 7
    assert got == other_env.files()  # byte for byte what the uninterrupted run wrote


def limited(n: int) -> payments.RunSpec:
    return payments.RunSpec(
        SPEC.programme_id, SPEC.agency, SPEC.remitter, SPEC.name_ja, SPEC.name_en, record_limit=n
    )


def test_instruct_counts_what_it_created(env: Env) -> None:
    env.entitle(5)
    with env.uow() as db:
        made = runs._create(db, env.ctx, SPEC, "2026-12", 1, None, "test")
        run_id = made.id
    assert runs.instruct(env.uow, env.ctx, SPEC, run_id, chunk=2) == 5
    assert runs.instruct(env.uow, env.ctx, SPEC, run_id, chunk=2) == 0


def test_files_split_at_the_record_limit_and_per_remitting_bank(env: Env) -> None:
    env.entitle(5, bank=OTHER_BANK, first_person=1)
    env.entitle(2, bank=MAIN_BANK, first_person=10)
    env.entitle(
        3, bank="0001", first_person=20
    )  # a bank the remitter has no account with: the first one pays
    report = env.run(spec=limited(2))
    names = [f.name for f in report.files]
    assert names == [
        f"test-benefit-2026-12-a1-{OTHER_BANK}-001.txt",
        f"test-benefit-2026-12-a1-{OTHER_BANK}-002.txt",
        f"test-benefit-2026-12-a1-{OTHER_BANK}-003.txt",
        f"test-benefit-2026-12-a1-{MAIN_BANK}-001.txt",
        f"test-benefit-2026-12-a1-{MAIN_BANK}-002.txt",
        f"test-benefit-2026-12-a1-{MAIN_BANK}-003.txt",
    ]
    assert [f.records for f in report.files] == [2, 2, 1, 2, 2, 1]
    files_ = env.files()
    main = [t for n, d in files_.items() if MAIN_BANK in n for t in zengin.transfers_of(zengin.parse(d))]
    assert sorted(t.bank_code for t in main) == ["0001"] * 3 + [MAIN_BANK] * 2
    for name, data in files_.items():
        header = zengin.parse(data).records[0]
        assert header.value("origin_bank_code") == name.split("-")[-2]
        trailer = zengin.parse(data).of(zengin.Kind.TRAILER)[0]
        f = next(f for f in report.files if f.name == name)
        assert (int(trailer.value("record_count")), int(trailer.value("total_amount"))) == (
            f.records,
            f.total,
        )


def test_a_transfer_date_that_is_not_a_bank_business_day_is_refused(env: Env) -> None:
    env.entitle(1)
    for day in (dt.date(2026, 12, 5), dt.date(2026, 12, 31), dt.date(2027, 1, 11)):  # Sat, year end, 成人の日
        with pytest.raises(payments.RunRefused, match="not a bank business day"):
            env.run(transfer_date=day)
    with pytest.raises(payments.RunRefused, match="too soon"):
        env.run(transfer_date=dt.date(2026, 11, 27))
    assert env.counts()["runs"] == 0
    assert env.run(transfer_date=dt.date(2026, 12, 4)).transfer_date == dt.date(2026, 12, 4)


def test_a_second_transfer_to_the_same_account_is_not_new(env: Env) -> None:
    env.entitle(2)
    env.run()
    env.entitle(2, period="2027-02")
    env.run(period="2027-02")
    later = [n for n in env.files() if "2027-02" in n]
    assert {t.new_code for t in zengin.transfers_of(zengin.parse(env.files()[later[0]]))} == {"0"}


def test_a_second_live_transfer_for_an_entitlement_is_impossible(env: Env) -> None:
    """A second attempt started while the first is live instructs nobody again, and the database itself refuses a
    second live transfer for an entitlement (the unique live key)."""
    env.entitle(3)
    env.run()
    with env.uow() as db:
        rogue = Run(
            programme_id=SPEC.programme_id,
            period="2026-12",
            attempt=2,
            transfer_date=dt.date(2026, 12, 4),
            state="instructing",
            record_limit=10,
            started_by="test",
            started_at=env.ctx.clock.now(),
        )
        db.add(rogue)
        db.flush()
        db.execute(update(Entitlement).values(state="confirmed"))  # as if the state had not been moved yet
        rogue_id = rogue.id
    assert runs.instruct(env.uow, env.ctx, SPEC, rogue_id, chunk=2) == 0
    live = [i.live_key for i in env.instructions() if i.live_key is not None]
    assert sorted(live) == sorted(set(live))
    assert len(live) == 3
    first = env.instructions()[0]
    fields = ("entitlement_id", "live_key", "remitter_bank", "bank_code", "branch_code", "deposit_type")
    copy = {c: getattr(first, c) for c in (*fields, "account_number", "holder_kana", "amount")}
    twin = Instruction(run_id=rogue_id, state="instructed", result_code="", **copy)
    with env.sessions() as db:
        db.add(twin)
        with pytest.raises(IntegrityError):
            db.flush()


def test_nothing_payable_opens_no_run(env: Env) -> None:
    env.entitle(2, state="notified", deadline=TODAY)  # still within the deadline
    with pytest.raises(payments.RunRefused, match="Nothing to pay"):
        env.run()
    assert env.counts()["runs"] == 0

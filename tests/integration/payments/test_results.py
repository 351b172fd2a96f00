"""Bank result files: one failed transfer → the entitlement failed and a notice to the payee; idempotent
re-import; malformed or foreign files refused with nothing changed; the retry pays only the failed one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select, update
from tests.integration.payments.conftest import SPEC, Env

from tsunagu.linkage import api as linkage
from tsunagu.payments import api as payments
from tsunagu.payments.core import results, zengin
from tsunagu.payments.models import Entitlement, Instruction, Run


def spec_for(programme: str) -> payments.RunSpec:
    assert programme == SPEC.programme_id
    return SPEC


def import_file(env: Env, data: bytes, name: str = "result.txt") -> payments.ImportReport:
    with env.uow() as db:
        return payments.import_results(db, env.ctx, data, name=name, imported_by="test", spec_for=spec_for)


def snapshot(env: Env) -> tuple[object, ...]:
    with env.sessions() as db:
        ins = db.execute(
            select(Instruction.id, Instruction.state, Instruction.live_key, Instruction.result_code)
        ).all()
        ents = db.execute(select(Entitlement.id, Entitlement.state, Entitlement.reason)).all()
    return tuple(ins), tuple(ents), env.counts()["result_files"]


def written(env: Env) -> tuple[payments.RunReport, bytes]:
    report = env.run()
    return report, (env.out / report.files[0].name).read_bytes()


def test_one_failed_transfer_fails_its_entitlement_and_tells_the_payee(env: Env) -> None:
    ids = env.entitle(3)
    report, data = written(env)
    failing = env.instructions()[1]
    got = import_file(env, payments.simulate_bank(data, {failing.id}))
    assert (got.paid, got.failed, got.run_id) == (2, 1, report.run_id)
    assert got.failures[0]["entitlement"] == ids[1]
    states = env.states()
    assert [states[i] for i in ids] == ["paid", "failed", "paid"]
    after = {i.id: i for i in env.instructions()}
    assert (after[failing.id].state, after[failing.id].live_key, after[failing.id].result_code) == (
        "failed",
        None,
        "2",
    )
    with env.sessions() as db:
        reason = db.scalar(select(Entitlement.reason).where(Entitlement.id == ids[1]))
        assert "no such account" in (reason or "")
        inbox = linkage.inbox(db, env.ctx.keys, 2)  # person 2 is the failed payee
        assert [n.link_url for n in inbox] == ["/my/public-fund-account"]
        assert "テスト給付金" in inbox[0].title_ja
        assert "口座がありません" in inbox[0].body_ja
        assert "Test Benefit" in inbox[0].title_en
        assert "no such account" in inbox[0].body_en
        assert linkage.inbox(db, env.ctx.keys, 1) == []
        assert db.scalar(select(Run.state)) == "reconciled"  # every transfer of the run has a result
    again = env.run()  # running the reconciled period again reports it and changes nothing
    assert (again.state, again.run_id, again.instructions) == ("reconciled", report.run_id, 3)


def test_importing_the_same_file_again_changes_nothing(env: Env) -> None:
    env.entitle(2)
    _, data = written(env)
    result = payments.simulate_bank(data, {env.instructions()[0].id})
    first = import_file(env, result)
    before = snapshot(env)
    again = import_file(env, result)
    assert (again.already_imported, again.paid, again.failed) == (True, first.paid, first.failed)
    assert snapshot(env) == before


def tamper(data: bytes, record: int, at: int, new: bytes) -> bytes:
    lines = data.split(b"\r\n")
    line = lines[record]
    lines[record] = line[:at] + new + line[at + len(new) :]
    return b"\r\n".join(lines)


def relabel(data: bytes, record: int, instruction: int) -> bytes:
    return tamper(data, record, CUSTOMER_CODE, str(instruction).rjust(10, "0").encode())


def more_money(data: bytes) -> bytes:
    """The first transfer's amount raised by 1 yen, the trailer's total with it (a consistent but false file)."""
    amount = int(data[122 + AMOUNT : 122 + AMOUNT + 10]) + 1
    total = int(data[3 * 122 + 7 : 3 * 122 + 19]) + 1
    return tamper(
        tamper(data, 1, AMOUNT, str(amount).rjust(10, "0").encode()), 3, 7, str(total).rjust(12, "0").encode()
    )


AMOUNT, CUSTOMER_CODE, ACCOUNT = 80, 91, 43  # offsets in a data record
MALFORMED: dict[str, Callable[[bytes, int], bytes]] = {
    "bad length": lambda d, _: d.replace(b"\r\n", b"\r\n ", 1),
    "unknown result code": lambda d, _: tamper(d, 1, 113, b"7"),
    "no result code": lambda d, _: tamper(d, 1, 113, b" "),
    "unknown instruction": lambda d, _: relabel(d, 1, 999_999),
    "amount changed": lambda d, _: more_money(d),
    "account changed": lambda d, _: tamper(d, 1, ACCOUNT, b"9999999"),
    "totals off": lambda d, _: tamper(d, 3, 7, b"000000000001"),
    "wrong date": lambda d, _: tamper(d, 0, 54, b"1201"),
    "another run": lambda d, other: relabel(d, 1, other),
}


EXPECTED = {
    "bad length": "not 120",
    "unknown result code": "unknown result code '7'",
    "no result code": "no result code at position 114",
    "unknown instruction": "no transfer 999999 was instructed",
    "amount changed": "does not match what was sent",
    "account changed": "does not match what was sent",
    "totals off": "total_amount",
    "wrong date": "transfer date 1201",
    "another run": "mixes runs",
}


@pytest.mark.parametrize("fault", MALFORMED)
def test_a_malformed_result_file_is_refused_with_nothing_imported(env: Env, fault: str) -> None:
    env.entitle(2)
    _, data = written(env)
    env.entitle(1, first_person=50, period="2027-02")
    env.run(period="2027-02")
    other = env.instructions()[-1].id
    good = payments.simulate_bank(data, {env.instructions()[0].id})
    bad = MALFORMED[fault](good, other)
    assert bad != good
    before = snapshot(env)
    with pytest.raises(payments.ResultFileRefused) as refused:
        import_file(env, bad)
    assert "Nothing was imported" in refused.value.detail
    assert EXPECTED[fault] in refused.value.detail
    assert snapshot(env) == before
    assert import_file(env, good).failed == 1  # the good file still imports afterwards


def test_a_different_file_for_transfers_that_already_have_a_result_is_refused(env: Env) -> None:
    env.entitle(2)
    _, data = written(env)
    import_file(env, payments.simulate_bank(data))
    before = snapshot(env)
    with pytest.raises(payments.ResultFileRefused, match="already has a result"):
        import_file(env, payments.simulate_bank(data, {env.instructions()[0].id}))
    assert snapshot(env) == before


def test_the_retry_pays_only_the_failed_one_again(env: Env, tmp_path: Path) -> None:
    ids = env.entitle(3)
    _, data = written(env)
    failing = env.instructions()[2]
    import_file(env, payments.simulate_bank(data, {failing.id}, code=results.ResultCode.OTHER))
    with pytest.raises(payments.RunRefused, match="Nothing to retry"):
        env.retry()
    with env.uow() as db:  # the programmes side checks the account again and puts the entitlement back
        db.execute(update(Entitlement).where(Entitlement.id == ids[2]).values(state="confirmed"))
    second = env.retry()
    assert (second.attempt, second.instructions, second.state) == (2, 1, "written")
    retried = zengin.transfers_of(zengin.parse((env.out / second.files[0].name).read_bytes()))
    assert [t.account_number for t in retried] == ["0000003"]
    assert retried[0].new_code == "0"  # not a first transfer to that account
    assert env.run().attempt == 2  # running again reports the latest attempt, nothing new
    live = [i for i in env.instructions() if i.live_key is not None]
    assert sorted(i.live_key for i in live) == ids  # one live transfer per entitlement

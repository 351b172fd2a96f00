"""An online application's life on a real database: withdrawal, a correction request and the resubmission that
keeps its receipt number, the receipt signed by the receiving agency (verified with linkage's document check),
and the outbox's failure path (backoff, dead letter after MAX_ATTEMPTS, retry)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tsunagu.kernel.errors import Conflict
from tsunagu.linkage import api as linkage
from tsunagu.procedures.models import Bundle, Outbox
from tsunagu.procedures.services import applications as apps
from tsunagu.procedures.services import backoffice, outbox

from .conftest import ORIGIN_OFFICE, TODAY, Env, citizen

PREGNANCY = {"due_date": (TODAY + dt.timedelta(days=120)).isoformat(), "babies": "1", "phone": "0466-25-1111"}


def test_withdraw(env: Env) -> None:
    home = env.household()
    app = env.submit(home.head, env.draft(home.head, "ninshin-todoke"), PREGNANCY)
    with env.uow() as db:
        assert apps.withdraw(db, env.pctx, citizen(home.head), app.id).state == "withdrawn"
    with env.uow() as db:  # again: nothing changes
        assert apps.withdraw(db, env.pctx, citizen(home.head), app.id).state == "withdrawn"
    assert [h.to_state for h in _history(env, app.id)] == ["submitted", "withdrawn"]
    assert env.notices(home.head)[0].title_ja.endswith("取り下げました")


def test_a_completed_application_cannot_be_withdrawn(env: Env) -> None:
    home = env.household()
    app = env.submit(home.head, env.draft(home.head, "ninshin-todoke"), PREGNANCY)
    clerk = env.staff("clerk", ORIGIN_OFFICE)
    with env.uow() as db:
        backoffice.complete(db, env.pctx, clerk, app.id)
    with pytest.raises(Conflict), env.uow() as db:
        apps.withdraw(db, env.pctx, citizen(home.head), app.id)


def test_correction_and_resubmission_keep_the_receipt_number(env: Env) -> None:
    home = env.household()
    app = env.submit(home.head, env.draft(home.head, "ninshin-todoke"), PREGNANCY)
    number = app.receipt_number
    clerk = env.staff("clerk", ORIGIN_OFFICE)
    with env.uow() as db:
        backoffice.start_review(db, env.pctx, clerk, app.id)
    with pytest.raises(Exception, match="reason"), env.uow() as db:
        backoffice.request_correction(db, env.pctx, clerk, app.id, "  ")
    with env.uow() as db:
        backoffice.request_correction(db, env.pctx, clerk, app.id, "電話番号を確認してください")
    assert env.notices(home.head)[0].body_ja.endswith("理由: 電話番号を確認してください")
    fixed = env.submit(home.head, app.id, {**PREGNANCY, "phone": "0466-25-2222"})
    assert (fixed.state, fixed.receipt_number) == ("submitted", number)
    assert fixed.values["phone"] == "0466-25-2222"
    assert [h.to_state for h in _history(env, app.id)] == [
        "submitted",
        "in_review",
        "correction_requested",
        "submitted",
    ]
    with env.sessions() as db:
        claims = linkage.verify_document(db, env.pctx.platform.ring, fixed.receipt or "", apps.RECEIPT_TYP)
    assert claims["iss"] == ORIGIN_OFFICE
    assert claims["receipt"] == number
    assert claims["signed"] is True
    assert claims["digest"] == fixed.signed_digest
    with env.sessions() as db, pytest.raises(linkage.InvalidDocument):
        linkage.verify_document(
            db, env.pctx.platform.ring, (fixed.receipt or "")[:-4] + "AAAA", apps.RECEIPT_TYP
        )


def _history(env: Env, app_id: int) -> list[object]:
    with env.sessions() as db:
        return list(apps.history(db, app_id))  # type: ignore[arg-type]


def test_an_outbox_row_that_fails_backs_off_dies_and_is_retried(env: Env) -> None:
    home = env.household()
    now = env.now
    with env.uow() as db:
        db.add(
            Bundle(
                id="b-1",
                event="moving",
                applicant_person_id=home.head,
                filed_by_person_id=home.head,
                state="open",
                inputs={},
                facts={},
                idempotency_key="test:b-1",
                created_at=now.at,
            )
        )
        db.flush()
        db.add(
            Outbox(
                bundle_id="b-1",
                key="no-such-procedure:origin:",
                payload={"procedure": "no-such-procedure"},
                state="pending",
                attempts=0,
                next_attempt_at=now.at,
                created_at=now.at,
            )
        )
    first = env.work()
    assert (first.done, first.failed, first.dead) == (0, 1, 0)
    assert env.work().failed == 0  # not due yet: the backoff holds it
    row = _row(env)
    assert (row.state, row.attempts) == ("pending", 1)
    assert row.next_attempt_at == now.at + outbox.backoff(1)
    assert row.last_error.startswith("NotFound")
    for attempt in range(2, outbox.MAX_ATTEMPTS + 1):
        now.advance(seconds=outbox.backoff(attempt - 1).total_seconds())
        passed = env.work()
        assert (passed.failed, passed.dead) == ((0, 1) if attempt == outbox.MAX_ATTEMPTS else (1, 0))
    row = _row(env)
    assert (row.state, row.attempts) == ("dead", outbox.MAX_ATTEMPTS)
    now.advance(days=1)
    assert env.work().failed == 0  # dead rows are not worked
    with env.sessions() as db:
        assert [d.id for d in outbox.dead_letters(db)] == [row.id]
    with env.uow() as db:
        assert outbox.retry(db, env.pctx, row.id, "staff:clerk") is True
        assert outbox.retry(db, env.pctx, row.id, "staff:clerk") is False  # pending now
    assert (_row(env).state, _row(env).attempts) == ("pending", 0)
    assert env.work().failed == 1


def _row(env: Env) -> Outbox:
    with env.sessions() as db:
        return db.scalars(select(Outbox)).one()

"""Cancelling a moving one-stop (取消し): every open application of the bundle is cancelled and notified, the
pending fan-out is dropped, and once the origin has recorded the 転出 the cancellation is refused (the counter
undoes it)."""

from __future__ import annotations

from sqlalchemy import select

from tsunagu.kernel.errors import Conflict
from tsunagu.procedures.models import Bundle, Outbox
from tsunagu.procedures.services import backoffice, bundles

from .conftest import ORIGIN_OFFICE, Env, citizen, moving_form, refused


def test_a_cancelled_one_stop_cancels_its_applications_and_drops_its_fan_out(env: Env) -> None:
    home = env.household(nhi=True)
    tenshutsu = env.submit(home.head, env.draft(home.head, "tenshutsu"), moving_form(["1", "2", "3"]))
    bundle_id = tenshutsu.bundle_id
    assert bundle_id is not None
    notices_before = len(env.notices(home.head))
    with env.uow() as db:
        bundles.cancel(db, env.pctx, citizen(home.head), bundle_id)
    with env.sessions() as db:
        bundle = db.get_one(Bundle, bundle_id)
        assert bundle.state == "cancelled"
        pending = db.scalars(
            select(Outbox).where(Outbox.bundle_id == bundle_id, Outbox.state == "pending")
        ).all()
        assert pending == []
    assert {a.state for a in env.bundle_apps(bundle_id)} == {"cancelled"}
    assert env.work(bundle_id).done == 0  # nothing left to derive
    assert len(env.notices(home.head)) == notices_before + 2  # the 転出届 and the 転入予約
    with env.uow() as db:  # cancelling twice is harmless
        assert bundles.cancel(db, env.pctx, citizen(home.head), bundle_id).state == "cancelled"


def test_once_the_move_out_is_recorded_the_one_stop_cannot_be_cancelled_online(env: Env) -> None:
    home = env.household()
    tenshutsu = env.submit(home.head, env.draft(home.head, "tenshutsu"), moving_form(["1", "2", "3"]))
    assert tenshutsu.bundle_id is not None
    clerk = env.staff("cancel-clerk", ORIGIN_OFFICE)
    with env.uow() as db:
        backoffice.complete(db, env.pctx, clerk, tenshutsu.id)
    bundle_id = tenshutsu.bundle_id
    refused(
        env,
        Conflict,
        lambda db: bundles.cancel(db, env.pctx, citizen(home.head), bundle_id),
        match="already been recorded",
    )
    assert env.application(tenshutsu.id).state == "completed"

"""The moving one-stop end to end at the service level, on a real database: a signed 転出届 opens a bundle (転出届
to the origin, 転入予約 to the destination), the worker creates each derived procedure exactly once, the origin
records the 転出, the destination records the 特例転入 after a card check at the counter (the signature certificate
is revoked, the bundle closed), and every state change is an お知らせ to the applicant."""

from __future__ import annotations

import base64
from collections import Counter

import pytest
from sqlalchemy import select

from tsunagu.identity import api as identity
from tsunagu.kernel.errors import Conflict, Forbidden
from tsunagu.pki import api as pki
from tsunagu.procedures.models import ApplicationEvent, Bundle, Outbox
from tsunagu.procedures.services import applications as apps
from tsunagu.procedures.services import backoffice
from tsunagu.registry import api as registry

from .conftest import DESTINATION, DESTINATION_OFFICE, ORIGIN_OFFICE, PINS, Env, moving_form

DERIVED = {
    **{f"kokuho-soshitsu:origin:{r}": "NHI-142051" for r in "123"},
    **{f"kokuho-shutoku:destination:{r}": DESTINATION_OFFICE for r in "123"},
    "jido-teate-shometsu:origin:": ORIGIN_OFFICE,
    "jido-teate-nintei:destination:": DESTINATION_OFFICE,
    "kodomo-iryohi:destination:3": DESTINATION_OFFICE,
}


def _pin_refused(env: Env, action: object) -> Exception:
    """Run a counter action the way the edge does: a refused PIN is committed before it is reported."""
    with env.uow() as db:
        try:
            action(db)  # type: ignore[operator]
        except identity.PIN_REFUSALS as exc:
            return exc
    raise AssertionError("the PIN was accepted")


def test_moving_one_stop_end_to_end(env: Env) -> None:  # noqa: PLR0915 - one journey, step by step
    home = env.household(nhi=True)
    draft = env.draft(home.head, "tenshutsu")
    tenshutsu = env.submit(home.head, draft, moving_form(["1", "2", "3"]))
    assert tenshutsu.state == "submitted"
    assert tenshutsu.receipt_number is not None
    assert tenshutsu.receipt_number.startswith("142051-20261126-")
    assert tenshutsu.signature is not None
    assert tenshutsu.bundle_id is not None
    bundle_id = tenshutsu.bundle_id

    primaries = env.bundle_apps(bundle_id)
    assert [(a.procedure_id, a.agency, a.state) for a in primaries] == [
        ("tenshutsu", ORIGIN_OFFICE, "submitted"),
        ("tennyu-yoyaku", DESTINATION_OFFICE, "submitted"),
    ]
    with env.sessions() as db:
        rows = {
            o.key: o.payload["agency"]
            for o in db.scalars(select(Outbox).where(Outbox.bundle_id == bundle_id))
        }
    assert rows == DERIVED

    first = env.work()
    assert (first.done, first.failed, first.dead) == (len(DERIVED), 0, 0)
    again = env.work()
    assert (again.done, again.failed, again.dead) == (0, 0, 0)
    made = env.bundle_apps(bundle_id)
    per_key = Counter(a.bundle_key for a in made)
    assert set(per_key.values()) == {1}
    derived = {a.bundle_key: a for a in made if a.procedure_id not in ("tenshutsu", "tennyu-yoyaku")}
    assert {k: a.agency for k, a in derived.items()} == DERIVED
    assert all(a.state == "submitted" and a.receipt_number for a in derived.values())
    child_medical = derived["kodomo-iryohi:destination:3"]
    assert child_medical.subject_person_id == home.child
    assert child_medical.values["insurer_number"] == "142051"  # pre-filled from the NHI copy

    origin_staff = env.staff("fujisawa-clerk", ORIGIN_OFFICE)
    destination_staff = env.staff("chiyoda-clerk", DESTINATION_OFFICE)
    yoyaku = primaries[1]
    with pytest.raises(Exception, match="not processed the move-out"), env.uow() as db:
        backoffice.complete(db, env.pctx, destination_staff, yoyaku.id, checked_person=home.head)
    with pytest.raises(Forbidden), env.uow() as db:
        backoffice.complete(db, env.pctx, origin_staff, yoyaku.id)  # another office's queue

    with env.uow() as db:
        backoffice.complete(db, env.pctx, origin_staff, tenshutsu.id)
    with env.sessions() as db:
        assert registry.basic_facts(db, home.head).status == "moved_out"
        assert registry.basic_facts(db, home.child).status == "moved_out"
        assert registry.basic_facts(db, home.spouse).status == "moved_out"

    with pytest.raises(Forbidden, match="Check the card"), env.uow() as db:
        backoffice.complete(db, env.pctx, destination_staff, yoyaku.id)
    refused = _pin_refused(
        env, lambda db: backoffice.card_check(db, env.pctx, [home.head, home.child], "9999")
    )
    assert isinstance(refused, identity.WrongPin)
    with env.sessions() as db:
        serial = identity.active_card_of(db, home.head)
        assert serial is not None
        chip = identity.chip_for(db, env.pctx.cards, serial)
        assert chip.pin_status(identity.PinSlot.AUTHENTICATION).remaining == 2  # the refusal was counted
    with pytest.raises(Conflict, match="from the moving date"), env.uow() as db:
        backoffice.complete(db, env.pctx, destination_staff, yoyaku.id, checked_person=home.head)
    env.now.advance(days=8)  # the family moved (day 7) and comes to the new office's counter
    with env.uow() as db:
        checked = backoffice.card_check(db, env.pctx, [home.head, home.child], PINS.authentication)
        assert checked == home.head
        backoffice.complete(db, env.pctx, destination_staff, yoyaku.id, checked_person=checked)

    with env.sessions() as db:
        moved = registry.basic_facts(db, home.head)
        child = registry.basic_facts(db, home.child)
        assert (moved.status, moved.lg_code, moved.town, moved.block) == (
            "resident",
            DESTINATION,
            "丸の内一丁目",
            "1-1",
        )
        assert (child.status, child.lg_code, child.household_id) == (
            "resident",
            DESTINATION,
            moved.household_id,
        )
        assert chip.pin_status(identity.PinSlot.AUTHENTICATION).remaining == 3  # a correct PIN resets it
        data = apps.signing_input(tenshutsu, tenshutsu.values)
        with pytest.raises(pki.CertificateRevoked):  # the 特例転入 revoked the signature certificate
            env.pctx.cards.trust.verify_signature(
                db,
                base64.b64decode(tenshutsu.certificate or ""),
                pki.CertificateKind.SIGNATURE,
                data,
                base64.b64decode(tenshutsu.signature or ""),
            )
        bundle = db.get_one(Bundle, bundle_id)
        assert bundle.state == "closed"
        changes = list(
            db.scalars(
                select(ApplicationEvent).where(
                    ApplicationEvent.application_id.in_([a.id for a in env.bundle_apps(bundle_id)])
                )
            )
        )
    assert env.application(yoyaku.id).state == "completed"
    assert env.application(tenshutsu.id).state == "completed"
    notices = env.notices(home.head)
    assert len(notices) == len(changes) == len(DERIVED) + 2 + 2  # every submission and both completions

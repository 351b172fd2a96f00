"""出生 and おくやみ on a real database: the 出生届 entered in advance derives 児童手当 / 子ども医療費 / 国保 through
the worker and its completion records the child in the household; a recorded death lets the family file every
procedure it triggers, each to its office (国保 to the NHI insurer, 年金受給権者死亡届 to JPS)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tsunagu.kernel.errors import Conflict, InvalidInput
from tsunagu.linkage import api as linkage
from tsunagu.procedures.models import Outbox
from tsunagu.procedures.services import backoffice, bundles, prefill
from tsunagu.registry import api as registry

from .conftest import HOME, NHI, ORIGIN_OFFICE, TODAY, Env, citizen, event_items, refused

BIRTH = {
    "child_family_name": "山田",
    "child_given_name": "二郎",
    "child_family_name_kana": "ヤマダ",
    "child_given_name_kana": "ジロウ",
    "child_birth_date": (TODAY - dt.timedelta(days=2)).isoformat(),
    "child_sex": "male",
    "birth_place": "藤沢市民病院",
}


def test_birth_derives_allowances_and_completion_records_the_child(env: Env) -> None:
    home = env.household(nhi=True)
    app = env.submit(home.head, env.draft(home.head, "shussei-todoke"), BIRTH)
    assert app.state == "submitted"
    assert app.bundle_id is not None
    assert app.bundle_key == "shussei-todoke:current:child"
    passed = env.work()
    assert (passed.done, passed.failed) == (3, 0)
    assert env.work().done == 0
    made = {a.bundle_key: a for a in env.bundle_apps(app.bundle_id)}
    assert sorted(made) == [
        "jido-teate-gakukaitei:current:",  # an older child (8) lives in the household: 額改定
        "kodomo-iryohi:current:child",
        "kokuho-shutoku:current:child",
        "shussei-todoke:current:child",
    ]
    assert made["kokuho-shutoku:current:child"].agency == NHI
    assert all(a.state == "submitted" for a in made.values())
    subsidy = made["kodomo-iryohi:current:child"].values  # about the newborn, not the parent
    assert {v for k, v in subsidy.items() if k.endswith("given_name")} == {"二郎"}

    clerk = env.staff("birth-clerk", ORIGIN_OFFICE)
    with env.uow() as db:
        backoffice.complete(db, env.pctx, clerk, app.id)
    with env.sessions() as db:
        members = registry.household_facts(db, home.id)
        bundle = bundles.bundle_of_id(db, app.bundle_id)
        assert bundle is not None
        assert bundle.state == "closed"
    newborn = [m for m in members if m.given_name == "二郎"]
    assert len(newborn) == 1
    assert (newborn[0].relationship, newborn[0].status, newborn[0].lg_code) == ("child", "resident", HOME)
    assert newborn[0].birth_date == TODAY - dt.timedelta(days=2)


def _bereavement_fetch(env: Env, applicant: int) -> prefill.Fetched:
    return prefill.fetch(env.pctx, applicant, ["resident.household", *event_items(["bereavement"])])


def test_bereavement_derives_what_the_death_triggers(env: Env) -> None:
    home = env.household(nhi=True)
    with env.uow() as db:
        code = linkage.code_for(db, env.pctx.keys, "JPS", home.head)
        linkage.put_copy(db, "JPS", code, {"pension.status": "receiving"}, clock=env.pctx.clock)
    refused(
        env,
        InvalidInput,
        lambda db: bundles.file_bereavement(
            db, env.pctx, citizen(home.head), home.spouse, _bereavement_fetch(env, home.head), "k0"
        ),
        match="deceased member",
    )  # alive
    with env.uow() as db:
        registry.record_event(
            db,
            env.pctx.registry_for(HOME),
            home.spouse,
            registry.EventKind.DEATH,
            TODAY - dt.timedelta(days=1),
            registry.Filing("test-clerk"),
        )
    fetched = _bereavement_fetch(env, home.head)
    assert {"nhi.eligibility", "pension.status"} <= fetched.held
    with env.uow() as db:
        bundle = bundles.file_bereavement(db, env.pctx, citizen(home.head), home.spouse, fetched, "k1")
        bundle_id = bundle.id
    with env.sessions() as db:
        rows = {o.key: o.payload for o in db.scalars(select(Outbox).where(Outbox.bundle_id == bundle_id))}
    assert {k: p["agency"] for k, p in rows.items()} == {
        "kokuho-soshitsu:current:deceased": NHI,
        "kokuho-sosaihi:current:deceased": NHI,
        "nenkin-shibo:current:deceased": "JPS",
        "jido-teate-shometsu:current:": ORIGIN_OFFICE,
    }
    assert rows["nenkin-shibo:current:deceased"]["subject"] == home.spouse
    with env.uow() as db:  # the same request again (a retried form): the first filing stands
        assert (
            bundles.file_bereavement(db, env.pctx, citizen(home.head), home.spouse, fetched, "k1").id
            == bundle_id
        )
    refused(
        env,
        Conflict,
        lambda db: bundles.file_bereavement(db, env.pctx, citizen(home.head), home.spouse, fetched, "k2"),
    )
    assert env.work().done == 4
    made = env.bundle_apps(bundle_id)
    assert sorted(a.procedure_id for a in made) == [
        "jido-teate-shometsu",
        "kokuho-sosaihi",
        "kokuho-soshitsu",
        "nenkin-shibo",
    ]
    pension = next(a for a in made if a.procedure_id == "nenkin-shibo")
    assert pension.subject_person_id == home.spouse
    assert pension.applicant_person_id == home.head
    assert pension.state == "submitted"
    assert pension.receipt_number


@pytest.mark.parametrize("held", [False, True])
def test_bereavement_without_pension_or_nhi(env: Env, held: bool) -> None:
    home = env.household(nhi=held)
    with env.uow() as db:
        registry.record_event(
            db,
            env.pctx.registry_for(HOME),
            home.spouse,
            registry.EventKind.DEATH,
            TODAY,
            registry.Filing("test-clerk"),
        )
    fetched = _bereavement_fetch(env, home.head)
    with env.uow() as db:
        bundle_id = bundles.file_bereavement(db, env.pctx, citizen(home.head), home.spouse, fetched, "k").id
    env.work()
    made = sorted(a.procedure_id for a in env.bundle_apps(bundle_id))
    nhi = ["kokuho-sosaihi", "kokuho-soshitsu"] if held else []
    assert made == sorted(["jido-teate-shometsu", *nhi])

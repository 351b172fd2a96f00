"""Benefits end to end on a real database: the roll on the reference date, entitlements inserted idempotently and
resumably, account lookups through the hub (logged, in the person's やりとり履歴), push-type notices sent once per
state, and the person's confirm / decline."""

from __future__ import annotations

import dataclasses
import datetime as dt
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker
from tests.conftest import NOW
from tests.integration.conftest import move_in, person
from tests.integration.payments.conftest import build_env

from tsunagu.kernel.clock import Clock
from tsunagu.linkage import api as linkage
from tsunagu.payments import api as payments
from tsunagu.payments.core.programmes import Payee
from tsunagu.payments.models import Entitlement
from tsunagu.payments.services import entitlements as ents
from tsunagu.payments.services import lookups, notify
from tsunagu.payments.sources import programme
from tsunagu.registry import api as registry
from tsunagu.settings import Settings

EMERGENCY = programme("emergency-2026")  # ¥100,000 to everyone on the roll of 2026-11-01, paid to the 世帯主
ALLOWANCE = programme("child-allowance")
KOKIN = "DA-KOKIN"
TODAY = NOW.date()


def bank_items(number: str = "1234567", holder: str = "ﾔﾏﾀﾞ ﾀﾛｳ") -> dict[str, Any]:
    return {
        "public_fund_account.bank": {
            "bank_code": "0005",
            "bank_name": "三菱ＵＦＪ",
            "branch_code": "001",
            "branch_name": "本店",
        },
        "public_fund_account.account": {"deposit_type": "1", "account_number": number},
        "public_fund_account.holder": holder,
    }


@dataclass
class Town:
    head: int
    spouse: int
    child: int
    single: int  # lives alone, no account registered
    late: int  # moved in after the reference date


@dataclass
class Env:
    sessions: sessionmaker[Session]
    ctx: payments.PaymentsContext
    reg: registry.RegistryContext

    def uow(self) -> AbstractContextManager[Session]:
        return self.ctx.platform.uow()

    def town(self) -> Town:
        with self.uow() as db:
            head = move_in(db, self.reg, person("山田", "太郎", "ヤマダ", "タロウ", dt.date(1980, 4, 1)))
            hid = registry.basic_facts(db, head).household_id
            spouse = move_in(
                db,
                self.reg,
                person("山田", "花子", "ヤマダ", "ハナコ", dt.date(1982, 6, 1), registry.Sex.FEMALE),
                registry.Placement(hid, registry.Relationship.SPOUSE),
            )
            child = move_in(
                db,
                self.reg,
                person("山田", "一郎", "ヤマダ", "イチロウ", dt.date(2024, 10, 5)),
                registry.Placement(hid, registry.Relationship.CHILD),
                on=dt.date(2024, 11, 1),
            )
            single = move_in(db, self.reg, person("佐藤", "次郎", "サトウ", "ジロウ", dt.date(1950, 1, 1)))
            late = move_in(
                db, self.reg, person("鈴木", "三郎", "スズキ", "サブロウ"), on=dt.date(2026, 11, 2)
            )
        return Town(head, spouse, child, single, late)

    def register(self, person_id: int, **kw: str) -> None:
        """What the account registry keeps in step: the DA-KOKIN copy of the person's account."""
        with self.uow() as db:
            code = linkage.code_for(db, self.ctx.keys, KOKIN, person_id)
            linkage.put_copy(db, KOKIN, code, bank_items(**kw))

    def deregister(self, person_id: int) -> None:
        with self.uow() as db:
            code = linkage.code_for(db, self.ctx.keys, KOKIN, person_id)
            linkage.drop_copy(db, KOKIN, code, lookups.ITEMS)

    def stale(self, person_id: int) -> None:
        with self.uow() as db:
            db.execute(
                update(Entitlement).where(Entitlement.payee_person_id == person_id).values(account_stale=True)
            )

    def rows(self, programme_id: str = EMERGENCY.id) -> dict[int, Entitlement]:
        with self.sessions() as db:
            found = db.scalars(select(Entitlement).where(Entitlement.programme_id == programme_id))
            return {e.person_id: e for e in found}

    def entitle(self, p: payments.Programme = EMERGENCY, period: str = "once", **kw: Any) -> ents.Entitled:
        return ents.entitle(self.uow, self.ctx, p, period, **kw)

    def lookup(self, p: payments.Programme = EMERGENCY, period: str = "once") -> lookups.Looked:
        return lookups.lookup(self.uow, self.ctx, p, period)

    def notify(self, p: payments.Programme = EMERGENCY, period: str = "once") -> notify.Notified:
        return notify.notify(self.uow, self.ctx, p, period)

    def inbox(self, person_id: int) -> list[linkage.NoticeView]:
        with self.sessions() as db:
            return linkage.inbox(db, self.ctx.keys, person_id, limit=200)

    def history(self, person_id: int) -> list[linkage.ExchangeView]:
        with self.sessions() as db:
            return linkage.exchanges_about(db, self.ctx.keys, person_id)


@pytest.fixture
def env(session_factory: sessionmaker[Session], settings: Settings, clock: Clock, tmp_path: Any) -> Env:
    base = build_env(settings, session_factory, clock, tmp_path)
    return Env(session_factory, base.ctx, registry.registry_context(settings, clock))


def test_the_roll_is_the_register_on_the_reference_date(env: Env) -> None:
    town = env.town()
    with env.uow() as db:
        registry.record_death(db, env.reg, town.single, dt.date(2026, 11, 10), registry.Filing("clerk"))
    with env.uow() as db:
        roll = list(registry.residents_on(db, "142051", dt.date(2026, 11, 1), purpose="test"))
        before = list(registry.residents_on(db, "142051", dt.date(2020, 3, 31)))
        other = list(registry.residents_on(db, "131016", dt.date(2026, 11, 1)))
    assert [r.person_id for r in roll] == [town.head, town.spouse, town.child, town.single]  # household order
    assert roll[0].relationship == "head"
    assert roll[2].birth_date == dt.date(2024, 10, 5)
    assert roll[3].status == "deceased"  # died after the date: still on that day's roll
    assert before == []
    assert other == []


def test_entitle_is_idempotent(env: Env) -> None:
    town = env.town()
    first = env.entitle()
    assert (first.roll, first.computed, first.inserted, first.total) == (4, 4, 4, 400_000)
    rows = env.rows()
    assert set(rows) == {town.head, town.spouse, town.child, town.single}  # not the late arrival
    assert {p: (e.payee_person_id, e.amount, e.state) for p, e in rows.items()} == {
        town.head: (town.head, 100_000, "new"),
        town.spouse: (town.head, 100_000, "new"),
        town.child: (town.head, 100_000, "new"),
        town.single: (town.single, 100_000, "new"),
    }
    assert rows[town.spouse].basis == {"rule": "flat", "amount": 100_000, "payee": "household_head"}
    again = env.entitle()
    assert (again.computed, again.inserted) == (4, 0)
    assert {p: e.id for p, e in env.rows().items()} == {p: e.id for p, e in rows.items()}


def test_a_crash_after_the_first_chunk_loses_nothing_and_a_rerun_completes(env: Env) -> None:
    env.town()

    def die(_done: int) -> None:
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError, match="killed"):
        env.entitle(chunk=2, progress=die)
    assert len(env.rows()) == 2  # the first chunk was committed
    done = env.entitle(chunk=2)
    assert (done.computed, done.inserted) == (4, 2)
    with env.sessions() as db:
        count = db.scalar(select(func.count()).select_from(Entitlement))
    assert count == 4


def test_child_allowance_from_the_roll_pays_the_head_for_the_child(env: Env) -> None:
    town = env.town()
    done = env.entitle(ALLOWANCE, "2026-12")
    rows = env.rows(ALLOWANCE.id)
    assert set(rows) == {town.child}
    assert (rows[town.child].payee_person_id, rows[town.child].amount) == (town.head, 30_000)
    assert done.total == 30_000
    env.register(town.head)
    looked = env.lookup(ALLOWANCE, "2026-12")
    assert (looked.asked, looked.found) == (1, 1)
    assert env.notify(ALLOWANCE, "2026-12").notified == 1
    (notice,) = env.inbox(town.head)
    assert "児童手当（2026年12月支払分）として30,000円を" in notice.body_ja
    assert "(payment of 2026-12)" in notice.body_en
    assert [x.business for x in env.history(town.head)] == ["CHILD-ALLOWANCE-01"]


def test_lookup_and_notice_for_a_registered_and_an_unregistered_payee(env: Env) -> None:
    town = env.town()
    env.register(town.head)
    env.entitle()
    looked = env.lookup()
    assert (looked.asked, looked.found, looked.not_registered, looked.refused) == (2, 1, 1, {})
    rows = env.rows()
    assert rows[town.head].account == {
        "bank_code": "0005",
        "bank_name": "三菱ＵＦＪ",
        "branch_code": "001",
        "branch_name": "本店",
        "deposit_type": "1",
        "account_number": "1234567",
        "holder_kana": "ﾔﾏﾀﾞ ﾀﾛｳ",
    }
    assert rows[town.spouse].account == rows[town.head].account  # the head's account, for the household
    exchange = rows[town.head].account_exchange
    assert exchange is not None
    assert rows[town.single].account is None
    assert rows[town.single].account_exchange is not None  # asked and answered: not registered
    # each lookup is a logged exchange in the payee's やりとり履歴
    seen = [x for x in env.history(town.head) if x.exchange_id == exchange]
    assert len(seen) == 1
    assert (seen[0].requester, seen[0].provider, seen[0].business) == ("LG-142051", KOKIN, "KOKIN-01")
    assert any(x.exchange_id == rows[town.single].account_exchange for x in env.history(town.single))
    assert env.lookup().asked == 0  # nothing left to look up

    told = env.notify()
    assert (told.notified, told.invited, told.entitlements) == (1, 1, 4)
    rows = env.rows()
    assert {e.state for p, e in rows.items() if p != town.single} == {"notified"}
    assert rows[town.head].deadline == TODAY + dt.timedelta(days=14)
    assert rows[town.single].state == "no_account"
    (notice,) = env.inbox(town.head)
    assert notice.agency == "LG-142051"
    assert notice.link_url == f"/my/benefits/{min(e.id for p, e in rows.items() if p != town.single)}"
    assert "300,000円（3人分）" in notice.body_ja
    assert "****567" in notice.body_ja
    assert "1234567" not in notice.body_ja + notice.body_en
    assert "2026年12月10日" in notice.body_ja
    (invitation,) = env.inbox(town.single)
    assert invitation.link_url == "/my/public-fund-account"
    assert "公金受取口座が登録されていません" in invitation.body_ja
    # idempotent: no second notice for the same state
    assert env.notify().entitlements == 0
    assert len(env.inbox(town.head)) == 1
    assert len(env.inbox(town.single)) == 1


def test_a_registration_or_deletion_after_the_notice_is_looked_up_again(env: Env) -> None:
    town = env.town()
    env.register(town.head)
    env.entitle()
    env.lookup()
    env.notify()
    # the single resident registers: the registry marks their entitlement stale; looked up again → notified
    env.register(town.single, holder="ｻﾄｳ ｼﾞﾛｳ")
    env.stale(town.single)
    assert env.notify().entitlements == 0  # stale rows wait for the lookup
    assert env.lookup().found == 1
    assert env.notify().notified == 1
    assert env.rows()[town.single].state == "notified"
    assert len(env.inbox(town.single)) == 2
    # the head changes the account: looked up again, same state, no new notice
    first = env.rows()[town.head].account_exchange
    env.register(town.head, number="7654321")
    env.stale(town.head)
    env.lookup()
    rows = env.rows()
    assert rows[town.head].account is not None
    assert rows[town.head].account["account_number"] == "7654321"
    assert rows[town.head].account_exchange != first
    assert env.notify().entitlements == 0
    # the head deletes the account: looked up again → no account, invitation
    env.deregister(town.head)
    env.stale(town.head)
    env.lookup()
    told = env.notify()
    assert (told.invited, told.entitlements) == (1, 3)
    assert env.rows()[town.spouse].state == "no_account"
    assert env.inbox(town.head)[0].link_url == "/my/public-fund-account"


def test_confirm_decline_and_what_a_run_takes(env: Env) -> None:
    town = env.town()
    env.register(town.head)
    env.register(town.single)
    env.entitle()
    env.lookup()
    env.notify()
    rows = env.rows()
    head_own, spouse_one, single_one = rows[town.head].id, rows[town.spouse].id, rows[town.single].id
    with env.uow() as db:
        with pytest.raises(ents.EntitlementNotFound):  # someone else's
            ents.confirm(db, env.ctx, head_own, town.spouse)
        with pytest.raises(ents.EntitlementNotFound):
            ents.decline(db, env.ctx, head_own, town.single)
        with pytest.raises(ents.EntitlementNotFound):
            ents.confirm(db, env.ctx, 999_999, town.head)
    with env.uow() as db:
        assert ents.confirm(db, env.ctx, head_own, town.head).state == "confirmed"
        assert ents.confirm(db, env.ctx, head_own, town.head).state == "confirmed"  # idempotent
        assert ents.decline(db, env.ctx, spouse_one, town.head, "辞退します").state == "declined"
    with env.uow() as db, pytest.raises(ents.EntitlementClosed):
        ents.confirm(db, env.ctx, spouse_one, town.head)
    with env.sessions() as db:
        due = list(ents.due_for_payment(db, EMERGENCY, "once", TODAY))
        later = list(ents.due_for_payment(db, EMERGENCY, "once", TODAY + dt.timedelta(days=15)))
    assert [d.id for d in due] == [head_own]  # confirmed only; the others are within their deadline
    assert {d.id for d in later} == {head_own, rows[town.child].id, single_one}  # notified past the deadline
    assert later[0].account["account_number"] == "1234567"
    env.stale(town.single)  # the account changed: not paid until looked up again
    with env.sessions() as db:
        assert single_one not in {
            d.id for d in ents.due_for_payment(db, EMERGENCY, "once", TODAY + dt.timedelta(days=15))
        }
    with env.uow() as db:
        assert ents.lapse(db, env.ctx, EMERGENCY, "once", TODAY + dt.timedelta(days=15)) == 2
    assert env.rows()[town.child].state == "confirmed"


def test_the_citizen_view_masks_the_account_and_names_the_exchange(env: Env) -> None:
    town = env.town()
    env.register(town.head)
    env.entitle()
    with env.sessions() as db:
        assert ents.entitlements_of(db, town.head) == []  # not notified yet: not shown
    env.lookup()
    env.notify()
    with env.sessions() as db:
        mine = ents.entitlements_of(db, town.head)
        child_view = ents.entitlements_of(db, town.child)
        one = ents.entitlement_of(db, mine[0].id, town.head)
        with pytest.raises(ents.EntitlementNotFound):
            ents.entitlement_of(db, mine[0].id, town.single)
    assert len(mine) == 3
    assert {v.name_ja for v in mine} == {EMERGENCY.name_ja}
    assert one.account is not None
    assert one.account["account_number"] == "****567"
    assert one.account_exchange is not None
    assert one.deadline == TODAY + dt.timedelta(days=14)
    assert one.may_confirm()
    assert one.may_decline()
    assert [v.person_id for v in child_view] == [town.child]  # the benefit for the child, paid to the head


def test_paid_per_person_each_payee_is_asked_and_told(env: Env) -> None:
    town = env.town()
    per_person = dataclasses.replace(EMERGENCY, payee=Payee.PERSON)
    for p in (town.head, town.spouse):
        env.register(p)
    env.entitle(per_person)
    looked = env.lookup(per_person)
    assert (looked.asked, looked.found, looked.not_registered) == (4, 2, 2)
    assert env.notify(per_person).notified == 2


def test_a_refused_lookup_changes_nothing(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    town = env.town()
    env.register(town.head)
    env.entitle()
    unknown = dataclasses.replace(EMERGENCY, business="NO-SUCH-BUSINESS")
    looked = env.lookup(unknown)
    assert looked.found == 0
    assert sum(looked.refused.values()) == 2
    rows = env.rows()
    assert rows[town.head].account_exchange is None
    assert rows[town.head].reason.startswith("lookup refused")
    assert env.history(town.head) == []
    del monkeypatch

"""The account registry (公的給付支給等口座登録簿) on a real database: every refusal saves nothing, one account per
person and one person per account, the history, the registry agency's copy on the hub kept in step, pending
entitlements marked stale, and the revalidation after a bank merger (a modified copy of the master)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker
from tests.integration.conftest import move_in, person

from tsunagu.audit.models import AuditEntry
from tsunagu.kernel.access import CitizenPrincipal
from tsunagu.kernel.clock import Clock
from tsunagu.kernel.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from tsunagu.linkage import api as linkage
from tsunagu.linkage.exchange.models import Copy
from tsunagu.payments import api as payments
from tsunagu.payments import master as zmaster
from tsunagu.payments.models import Account, AccountEvent, Entitlement
from tsunagu.payments.services import account_revalidation, accounts
from tsunagu.pki import api as pki
from tsunagu.registry import api as registry
from tsunagu.settings import Settings

SOURCE = Path(__file__).resolve().parents[4] / "shared" / "data" / "zengin" / "zengin-code-source-data"
pytestmark = pytest.mark.skipif(
    not (SOURCE / "banks.json").is_file(), reason="../shared/data/zengin/zengin-code-source-data is not here"
)
AGENCY = "DA-KOKIN"
GOOD = accounts.AccountInput("0005", "001", "1", "1234567", "ﾔﾏﾀﾞ ﾀﾛｳ")
TABLES = {"accounts": Account, "events": AccountEvent, "copies": Copy, "audit": AuditEntry}


@dataclass
class Env:
    sessions: sessionmaker[Session]
    ctx: payments.PaymentsContext
    reg: registry.RegistryContext

    def uow(self) -> AbstractContextManager[Session]:
        return self.ctx.platform.uow()

    def resident(self, family_kana: str = "ヤマダ", given_kana: str = "タロウ") -> int:
        with self.uow() as db:
            return move_in(db, self.reg, person(family_kana=family_kana, given_kana=given_kana))

    def save(self, who: int, data: accounts.AccountInput = GOOD, by: accounts.Actor | None = None) -> str:
        with self.uow() as db:
            _view, action = accounts.save(db, self.ctx, self.ctx.master(), who, data, by or citizen(who))
            return action

    def counts(self) -> dict[str, int]:
        with self.sessions() as db:
            return {n: db.scalar(select(func.count()).select_from(m)) or 0 for n, m in TABLES.items()}

    def copy(self, who: int) -> dict[str, Any]:
        with self.uow() as db:
            code = self.ctx.code_for(db, AGENCY, who)
            rows = db.execute(select(Copy.item, Copy.value).where(Copy.agency == AGENCY, Copy.code == code))
            return {item: json.loads(value) for item, value in rows}

    def refused(self, expected: type[DomainError], action: Callable[[Session], object]) -> DomainError:
        before = self.counts()
        with pytest.raises(expected) as info, self.uow() as db:
            action(db)
        assert self.counts() == before, "a refusal saved something"
        return info.value


def citizen(who: int, acting_for: int | None = None) -> accounts.Actor:
    return accounts.Actor.citizen(
        CitizenPrincipal(who, f"person {who}", "card", "card", 0, "test", acting_for)
    )


@pytest.fixture
def env(session_factory: sessionmaker[Session], settings: Settings, clock: Clock) -> Env:
    trust = pki.trust_services(settings, clock)
    keys = linkage.linkage_keys(settings)
    platform = linkage.build_exchange(session_factory, trust, keys, clock=clock)
    with platform.uow() as db:
        linkage.provision_all(db, trust, keys, clock)
    ctx = payments.payments_context(
        settings.model_copy(update={"payments_master_dir": SOURCE}), clock, platform
    )
    return Env(session_factory, ctx, registry.registry_context(settings, clock))


def test_register_keeps_the_account_its_history_and_the_hub_copy(env: Env) -> None:
    who = env.resident()
    assert env.save(who, replace(GOOD, account_number="4567", holder_kana="やまだ たろう")) == "registered"
    with env.uow() as db:
        view = accounts.get(db, who)
        events = accounts.history(db, who)
    assert view is not None
    assert (view.bank_name, view.branch_name, view.account_number) == ("三菱ＵＦＪ", "本店", "0004567")
    assert view.holder_kana == "ﾔﾏﾀﾞ ﾀﾛｳ"
    assert view.masked_number == "****567"
    assert view.channel == "portal"
    assert [(e.action, e.channel, e.actor, e.masked_number) for e in events] == [
        ("registered", "portal", "citizen", "****567")
    ]
    assert env.copy(who) == {
        "public_fund_account.bank": {
            "bank_code": "0005",
            "bank_name": "三菱ＵＦＪ",
            "branch_code": "001",
            "branch_name": "本店",
        },
        "public_fund_account.account": {"deposit_type": "1", "account_number": "0004567"},
        "public_fund_account.holder": "ﾔﾏﾀﾞ ﾀﾛｳ",
    }
    with env.sessions() as db:
        entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "payments:account:register")).one()
    assert entry.subject == f"person:{who}"
    assert "0004567" not in json.dumps(entry.detail)


def test_change_replaces_and_delete_removes(env: Env) -> None:
    who = env.resident()
    env.save(who)
    assert env.save(who, replace(GOOD, bank_code="0009", branch_code="005", deposit_type="4")) == "changed"
    with env.sessions() as db:
        assert db.scalar(select(func.count()).select_from(Account)) == 1
    assert env.copy(who)["public_fund_account.bank"]["branch_name"] == "春日部"
    assert env.copy(who)["public_fund_account.account"] == {"deposit_type": "4", "account_number": "1234567"}
    with env.uow() as db:
        gone = accounts.delete_account(db, env.ctx, who, citizen(who))
    assert gone.bank_code == "0009"
    assert env.copy(who) == {}
    with env.uow() as db:
        assert accounts.get(db, who) is None
        assert [e.action for e in accounts.history(db, who)] == ["deleted", "changed", "registered"]
    env.refused(NotFound, lambda db: accounts.delete_account(db, env.ctx, who, citizen(who)))


BAD_INPUTS = [
    (replace(GOOD, bank_code="0002"), "bank_code", "金融機関コード"),  # no such bank
    (replace(GOOD, bank_code="12"), "bank_code", "4桁"),
    (replace(GOOD, branch_code="999"), "branch_code", "支店"),  # no such branch of 0005
    (replace(GOOD, branch_code="1"), "branch_code", "3桁"),
    (replace(GOOD, deposit_type="6"), "deposit_type", "定期"),  # a time deposit is not liquid
    (replace(GOOD, deposit_type="3"), "deposit_type", "預金種目"),
    (replace(GOOD, account_number="12345678"), "account_number", "7桁"),
    (replace(GOOD, account_number="12a4567"), "account_number", "7桁"),
    (replace(GOOD, account_number=""), "account_number", "7桁"),
    (replace(GOOD, holder_kana="ｽｽﾞｷ ﾊﾅｺ"), "holder_kana", "本人名義"),  # someone else's name
    (replace(GOOD, holder_kana="山田太郎"), "holder_kana", "使用できない文字"),  # kanji
    (replace(GOOD, holder_kana=""), "holder_kana", "カナ"),
]


@pytest.mark.parametrize(("data", "field", "ja"), BAD_INPUTS)
def test_bad_input_is_refused_with_a_reason_and_nothing_saved(
    env: Env, data: accounts.AccountInput, field: str, ja: str
) -> None:
    who = env.resident()
    error = env.refused(
        InvalidInput, lambda db: accounts.save(db, env.ctx, env.ctx.master(), who, data, citizen(who))
    )
    assert error.field == field
    assert ja in error.message("ja")
    assert error.message("en") != error.message("ja")


def test_a_change_refused_keeps_the_registration_as_it_was(env: Env) -> None:
    who = env.resident()
    env.save(who)
    before = env.copy(who)
    env.refused(
        InvalidInput,
        lambda db: accounts.save(
            db, env.ctx, env.ctx.master(), who, replace(GOOD, bank_code="0002"), citizen(who)
        ),
    )
    assert env.copy(who) == before


def test_someone_elses_account_is_refused_without_saying_whose(env: Env) -> None:
    first = env.resident()
    env.save(first)
    second = env.resident("ヤマダ", "タロウ")  # the same name: only the account is the same
    error = env.refused(
        Conflict, lambda db: accounts.save(db, env.ctx, env.ctx.master(), second, GOOD, citizen(second))
    )
    assert str(first) not in error.message("en")
    assert "他の方" in error.message("ja")
    assert env.save(first) == "changed"  # the owner may save it again


def test_the_unique_account_key_refuses_a_race(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two people registering the same account at once: both pass the check, the unique key refuses one."""
    first = env.resident()
    env.save(first)
    second = env.resident()
    monkeypatch.setattr(accounts, "_taken_by_someone_else", lambda *_args: False)
    error = env.refused(
        Conflict, lambda db: accounts.save(db, env.ctx, env.ctx.master(), second, GOOD, citizen(second))
    )
    assert error.field == "account_number"


def test_a_person_who_died_cannot_register(env: Env) -> None:
    who = env.resident()
    with env.uow() as db:
        registry.record_death(db, env.reg, who, dt.date(2026, 11, 1), registry.Filing("test-clerk"))
    env.refused(Forbidden, lambda db: accounts.save(db, env.ctx, env.ctx.master(), who, GOOD, citizen(who)))


def test_a_proxy_and_the_bank_counter_are_in_the_history(env: Env) -> None:
    who = env.resident()
    env.save(who, by=citizen(999, acting_for=who))
    env.save(who, replace(GOOD, account_number="7654321"), by=accounts.Actor.bank_counter("mufg-1"))
    with env.uow() as db:
        events = accounts.history(db, who)
        view = accounts.get(db, who)
    assert [(e.channel, e.actor) for e in events] == [("bank_counter", "staff:mufg-1"), ("portal", "proxy")]
    assert view is not None
    assert view.channel == "bank_counter"
    with env.sessions() as db:
        actors = db.scalars(
            select(AuditEntry.actor).where(AuditEntry.action.like("payments:account:%"))
        ).all()
    assert sorted(actors) == sorted([f"person:999 for person:{who}", "mufg-1"])


def _entitle(env: Env, payee: int, state: str, programme: str) -> None:
    now = env.ctx.clock.now()
    with env.uow() as db:
        db.execute(
            insert(Entitlement),
            [
                {
                    "programme_id": programme,
                    "period": "once",
                    "person_id": payee,
                    "payee_person_id": payee,
                    "amount": 10_000,
                    "basis": {},
                    "state": state,
                    "account": None,
                    "account_stale": False,
                    "created_at": now,
                    "updated_at": now,
                }
            ],
        )


def _stale(env: Env) -> dict[str, bool]:
    with env.sessions() as db:
        return {s: bool(v) for s, v in db.execute(select(Entitlement.state, Entitlement.account_stale))}


@pytest.mark.parametrize("how", ["change", "delete"])
def test_change_and_delete_mark_pending_entitlements_stale(env: Env, how: str) -> None:
    who = env.resident()
    env.save(who)
    for state in ("notified", "confirmed", "no_account", "instructed", "paid", "declined"):
        _entitle(env, who, state, f"p-{state}")
    assert not any(_stale(env).values())
    if how == "change":
        env.save(who, replace(GOOD, account_number="7654321"))
    else:
        with env.uow() as db:
            accounts.delete_account(db, env.ctx, who, citizen(who))
    assert _stale(env) == {
        "notified": True,
        "confirmed": True,
        "no_account": True,
        "instructed": False,
        "paid": False,
        "declined": False,
    }


def test_a_first_registration_marks_pending_entitlements_stale(env: Env) -> None:
    """An entitlement that found no account is looked up again once the person registers one."""
    who, other = env.resident(), env.resident("サトウ", "ハナコ")
    _entitle(env, who, "no_account", "p")
    _entitle(env, who, "paid", "q")
    _entitle(env, other, "notified", "r")
    env.save(who)
    assert _stale(env) == {"no_account": True, "paid": False, "notified": False}


def _merged_master(
    tmp_path: Path,
    *,
    drop_bank: str = "",
    drop_branch: tuple[str, str] | None = None,
    rename_bank: tuple[str, str] | None = None,
) -> Path:
    """A copy of the master with a bank (merged away) or one branch (closed) removed."""
    directory = tmp_path / "master"
    shutil.copytree(SOURCE, directory)
    if drop_bank:
        banks = json.loads((directory / "banks.json").read_text(encoding="utf-8"))
        del banks[drop_bank]
        (directory / "banks.json").write_text(json.dumps(banks, ensure_ascii=False), encoding="utf-8")
    if drop_branch:
        bank, branch = drop_branch
        path = directory / "branches" / f"{bank}.json"
        branches = json.loads(path.read_text(encoding="utf-8"))
        del branches[branch]
        path.write_text(json.dumps(branches, ensure_ascii=False), encoding="utf-8")
    if rename_bank:
        bank, name = rename_bank
        banks = json.loads((directory / "banks.json").read_text(encoding="utf-8"))
        banks[bank]["name"] = name
        (directory / "banks.json").write_text(json.dumps(banks, ensure_ascii=False), encoding="utf-8")
    (directory / "updated_at").write_text("209901011387", encoding="utf-8")
    return directory


def test_revalidate_after_a_merger_invalidates_and_notifies(env: Env, tmp_path: Path) -> None:
    gone, closed, kept = env.resident(), env.resident("サトウ", "ハナコ"), env.resident("スズキ", "イチロウ")
    env.save(gone)  # 0005 001: the bank goes
    env.save(closed, accounts.AccountInput("0009", "005", "1", "1", "ｻﾄｳ ﾊﾅｺ"))  # the branch closes
    env.save(kept, accounts.AccountInput("0009", "001", "1", "2", "ｽｽﾞｷ ｲﾁﾛｳ"))
    _entitle(env, gone, "confirmed", "p")
    new = zmaster.load(_merged_master(tmp_path, drop_bank="0005", drop_branch=("0009", "005")))
    seen: list[tuple[int, int]] = []
    with env.uow() as db:
        result = account_revalidation.revalidate(
            db, env.ctx, new, chunk=1, progress=lambda done, total: seen.append((done, total))
        )
    assert (result.checked, result.invalidated, result.master_version) == (2, 2, "209901011387")
    assert seen == [(1, 2), (2, 2)]
    with env.uow() as db:
        assert accounts.get(db, gone) is None
        assert accounts.get(db, closed) is None
        assert accounts.get(db, kept) is not None
        events = accounts.history(db, gone)
        notices = linkage.inbox(db, env.ctx.keys, gone)
        kept_notices = linkage.inbox(db, env.ctx.keys, kept)
    assert events[0].action == "invalidated"
    assert events[0].channel == "system"
    assert "0005" in events[0].reason
    assert env.copy(gone) == {}
    assert env.copy(closed) == {}
    assert env.copy(kept) != {}
    assert _stale(env) == {"confirmed": True}
    assert [n.title_ja for n in notices] == ["公金受取口座の登録が無効になりました"]
    assert notices[0].link_url == "/my/public-fund-account"
    assert notices[0].agency == AGENCY
    assert kept_notices == []
    with env.uow() as db:  # idempotent: nothing left to do
        again = account_revalidation.revalidate(db, env.ctx, new)
    assert (again.checked, again.invalidated) == (0, 0)
    with env.uow() as db:
        assert len(linkage.inbox(db, env.ctx.keys, gone)) == 1


def test_revalidate_against_the_same_master_changes_nothing(env: Env) -> None:
    who = env.resident()
    env.save(who)
    before = env.counts()
    with env.uow() as db:
        result = account_revalidation.revalidate(db, env.ctx, env.ctx.master())
    assert result.invalidated == 0
    assert env.counts() == before


def test_revalidate_takes_a_renamed_bank_s_new_name(env: Env, tmp_path: Path) -> None:
    who = env.resident()
    env.save(who)
    _entitle(env, who, "confirmed", "p")
    new = zmaster.load(_merged_master(tmp_path, rename_bank=("0005", "三菱ＵＦＪ信託")))
    with env.uow() as db:
        result = account_revalidation.revalidate(db, env.ctx, new)
    assert (result.invalidated, result.renamed) == (0, 1)
    with env.uow() as db:
        view = accounts.get(db, who)
        events = accounts.history(db, who)
        notices = linkage.inbox(db, env.ctx.keys, who)
    assert view is not None
    assert view.bank_name == "三菱ＵＦＪ信託"
    assert (events[0].action, events[0].channel) == ("changed", "system")
    assert "三菱ＵＦＪ信託" in events[0].reason
    assert env.copy(who)["public_fund_account.bank"]["bank_name"] == "三菱ＵＦＪ信託"
    assert _stale(env) == {"confirmed": False}, "the account is the same: nothing to look up again"
    assert notices == []
    with env.uow() as db:
        again = account_revalidation.revalidate(db, env.ctx, new)
    assert (again.invalidated, again.renamed) == (0, 0)

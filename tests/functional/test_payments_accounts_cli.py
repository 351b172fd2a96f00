"""``tsunagu payments accounts revalidate`` and ``tsunagu payments bank-staff add`` over a data directory: a bank
merged away invalidates its registrations (progress on stderr, JSON on stdout), a second run changes nothing; a
bad master or an unknown bank exits non-zero with the reason."""

from __future__ import annotations

import base64
import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from tsunagu.cli import build
from tsunagu.db.engine import make_engine, make_session_factory
from tsunagu.kernel.access import CitizenPrincipal
from tsunagu.kernel.clock import Clock
from tsunagu.linkage import api as linkage
from tsunagu.payments import api as payments
from tsunagu.payments import master as zmaster
from tsunagu.payments.cli_accounts import add_account_commands
from tsunagu.payments.models import BankStaff
from tsunagu.payments.services import accounts
from tsunagu.pki import api as pki
from tsunagu.registry import api as registry
from tsunagu.settings import Settings, load_settings

SECRET = base64.b64encode(bytes(range(32))).decode()


def context_for(settings: Settings) -> payments.PaymentsContext:
    clock = Clock()
    trust = pki.trust_services(settings, clock)
    sessions = make_session_factory(make_engine(settings))
    platform = linkage.build_exchange(sessions, trust, linkage.linkage_keys(settings), clock=clock)
    return payments.payments_context(settings, clock, platform)


def cli() -> typer.Typer:
    app = typer.Typer()
    add_account_commands(app, context_for)
    return app


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli(), list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A migrated data directory with the hub's agencies and one resident whose account is at 0005 本店."""
    monkeypatch.setenv("TSUNAGU_SECRET_KEY", SECRET)
    monkeypatch.delenv("TSUNAGU_DATABASE_URL", raising=False)
    monkeypatch.delenv("TSUNAGU_PAYMENTS_MASTER_DIR", raising=False)
    data = tmp_path / "data"
    assert CliRunner().invoke(build(), ["db", "upgrade", "--data-dir", str(data)]).exit_code == 0
    ctx = context_for(load_settings(data_dir=data))
    reg = registry.registry_context(ctx.settings, ctx.clock)
    with ctx.platform.uow() as db:
        linkage.provision_all(db, pki.trust_services(ctx.settings, ctx.clock), ctx.keys)
        who = registry.start_record(
            db,
            reg,
            registry.EventKind.MOVE_IN,
            registry.NewPerson(
                "山田", "太郎", "ヤマダ", "タロウ", dt.date(1980, 4, 1), registry.Sex.MALE, None
            ),
            registry.NewAddress("本町", "1番2号", ""),
            registry.Placement(),
            dt.date(2020, 4, 1),
            registry.Filing("test-clerk"),
            from_lg_code="131016",
        )
        me = CitizenPrincipal(who, "山田 太郎", "card", "card", 0, "test")
        accounts.save(
            db,
            ctx,
            ctx.master(),
            who,
            accounts.AccountInput("0005", "001", "1", "1234567", "ﾔﾏﾀﾞ ﾀﾛｳ"),
            accounts.Actor.citizen(me),
        )
    return data


def _without_bank(tmp_path: Path, bank: str) -> Path:
    directory = tmp_path / "merged"
    source = zmaster.default_directory()
    assert source is not None
    shutil.copytree(source, directory)
    banks = json.loads((directory / "banks.json").read_text(encoding="utf-8"))
    del banks[bank]
    (directory / "banks.json").write_text(json.dumps(banks, ensure_ascii=False), encoding="utf-8")
    return directory


def test_revalidate_after_a_merger(data_dir: Path, tmp_path: Path) -> None:
    merged = _without_bank(tmp_path, "0005")
    args = ["accounts", "revalidate", "--master", str(merged), "--data-dir", str(data_dir)]
    code, out, errors = run(*args, "--json")
    assert code == 0, out + errors
    assert json.loads(out)["invalidated"] == 1
    code, out, errors = run(*args)
    assert code == 0
    assert "0 registration(s) invalidated" in out
    assert errors == ""
    ctx = context_for(load_settings(data_dir=data_dir))
    with ctx.platform.uow() as db:
        assert accounts.get(db, 1) is None
        assert [e.action for e in accounts.history(db, 1)] == ["invalidated", "registered"]


def test_revalidate_shows_progress_on_stderr(data_dir: Path, tmp_path: Path) -> None:
    merged = _without_bank(tmp_path, "0005")
    code, out, errors = run("accounts", "revalidate", "--master", str(merged), "--data-dir", str(data_dir))
    assert code == 0
    assert "1 registration(s) invalidated" in out
    assert "invalidated 1 of 1" in errors


def test_revalidate_against_the_installed_master_changes_nothing(data_dir: Path) -> None:
    code, out, _errors = run("accounts", "revalidate", "--data-dir", str(data_dir), "--json")
    assert code == 0
    assert json.loads(out)["invalidated"] == 0


def test_a_directory_that_is_not_a_master_is_refused(data_dir: Path, tmp_path: Path) -> None:
    code, out, _errors = run(
        "accounts", "revalidate", "--master", str(tmp_path), "--data-dir", str(data_dir), "--json"
    )
    assert code == 2
    assert json.loads(out)["error"] == "not-found"


def test_bank_staff_add(data_dir: Path) -> None:
    code, out, errors = run("bank-staff", "add", "mufg-1", "0005", "--data-dir", str(data_dir))
    assert code == 0, out + errors
    assert "三菱ＵＦＪ" in out
    code, out, _errors = run("bank-staff", "add", "mufg-1", "0002", "--data-dir", str(data_dir), "--json")
    assert code == 1
    assert json.loads(out)["error"] == "invalid-input"
    ctx = context_for(load_settings(data_dir=data_dir))
    with ctx.platform.uow() as db:
        assert db.get_one(BankStaff, "mufg-1").bank_code == "0005"

"""``tsunagu payments programmes|entitle|lookup|notify``: the programmes listed, entitlements from the roll,
lookups and notices (each idempotent), progress on stderr, errors exit non-zero with the reason."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from tests.integration.conftest import move_in, person
from typer.testing import CliRunner

from tsunagu.cli import build
from tsunagu.db.engine import make_engine, make_session_factory, unit_of_work
from tsunagu.kernel.clock import Clock
from tsunagu.linkage import api as linkage
from tsunagu.pki import api as pki
from tsunagu.registry import api as registry
from tsunagu.settings import load_settings

SECRET = base64.b64encode(bytes(range(32))).decode()
ACCOUNT = {
    "public_fund_account.bank": {
        "bank_code": "0001",
        "bank_name": "みずほ",
        "branch_code": "001",
        "branch_name": "東京営業部",
    },
    "public_fund_account.account": {"deposit_type": "1", "account_number": "0123456"},
    "public_fund_account.holder": "ﾔﾏﾀﾞ ﾀﾛｳ",
}


def run(data_dir: Path | None, *args: str) -> tuple[int, str, str]:
    extra = ["--data-dir", str(data_dir)] if data_dir else []
    result = CliRunner().invoke(build(), [*args, *extra])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TSUNAGU_SECRET_KEY", SECRET)
    monkeypatch.delenv("TSUNAGU_DATABASE_URL", raising=False)
    data = tmp_path / "data"
    assert run(data, "db", "upgrade")[0] == 0
    settings = load_settings(data_dir=data, municipality_code="142051")
    clock = Clock()
    keys = linkage.linkage_keys(settings)
    reg = registry.registry_context(settings, clock)
    with unit_of_work(make_session_factory(make_engine(settings))) as db:
        linkage.provision_all(db, pki.trust_services(settings, clock), keys)
        head = move_in(db, reg, person())
        hid = registry.basic_facts(db, head).household_id
        move_in(
            db,
            reg,
            person(given="花子", given_kana="ハナコ"),
            registry.Placement(hid, registry.Relationship.SPOUSE),
        )
        move_in(db, reg, person("佐藤", "次郎", "サトウ", "ジロウ"))
        code = linkage.code_for(db, keys, "DA-KOKIN", head)
        linkage.put_copy(db, "DA-KOKIN", code, ACCOUNT)
    return data


def test_programmes_are_listed() -> None:
    code, stdout, _ = run(None, "payments", "programmes", "--json")
    assert code == 0
    found = {p["id"]: p for p in json.loads(stdout)["programmes"]}
    assert found["emergency-2026"]["business"] == "KOKIN-01"
    assert found["child-allowance"]["schedule"] == "even_months"
    assert found["child-allowance"]["unverified"]


def test_entitle_then_notify(data_dir: Path) -> None:
    code, stdout, stderr = run(data_dir, "payments", "entitle", "emergency-2026", "--json")
    assert code == 0, stderr
    done = json.loads(stdout)
    assert (done["roll"], done["inserted"], done["total"], done["on"]) == (3, 3, 300_000, "2026-11-01")
    assert "roll rows read: 3" in stderr
    code, stdout, _ = run(data_dir, "payments", "entitle", "emergency-2026", "--json")
    assert json.loads(stdout)["inserted"] == 0
    code, stdout, stderr = run(data_dir, "payments", "notify", "emergency-2026", "--json")
    assert code == 0, stderr
    told = json.loads(stdout)
    assert (told["notified"], told["invited"], told["entitlements"]) == (1, 1, 3)
    assert (told["lookup"]["asked"], told["lookup"]["found"], told["lookup"]["not_registered"]) == (2, 1, 1)
    code, stdout, _ = run(data_dir, "payments", "notify", "emergency-2026")
    assert code == 0
    assert "0 payees asked" in stdout
    assert "0 payees told" in stdout


def test_errors_exit_non_zero_with_the_reason(data_dir: Path) -> None:
    code, stdout, _ = run(data_dir, "payments", "entitle", "no-such", "--json")
    assert code != 0
    assert "no-such" in stdout
    code, stdout, _ = run(data_dir, "payments", "entitle", "child-allowance", "--period", "2026-11", "--json")
    assert code == 2
    assert "even months" in stdout

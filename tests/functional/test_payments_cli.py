"""``tsunagu payments run|results|reconcile``: a run writes valid Zengin files and says where; a bank's result
file is imported once; reconciliation in text, JSON and CSV; errors exit non-zero with the reason."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import insert
from typer.testing import CliRunner

from tsunagu.cli import build
from tsunagu.db.engine import make_engine, make_session_factory, unit_of_work
from tsunagu.kernel.clock import Clock
from tsunagu.linkage import api as linkage
from tsunagu.payments import api as payments
from tsunagu.payments.core import zengin
from tsunagu.payments.models import Entitlement
from tsunagu.pki import api as pki
from tsunagu.settings import load_settings

SECRET = base64.b64encode(bytes(range(32))).decode()
PROGRAMME = "emergency-2026"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TSUNAGU_SECRET_KEY", SECRET)
    monkeypatch.delenv("TSUNAGU_DATABASE_URL", raising=False)
    data = tmp_path / "data"
    assert run(data, "db", "upgrade")[0] == 0
    settings = load_settings(data_dir=data)
    engine = make_engine(settings)
    now = dt.datetime.now(dt.UTC)
    with unit_of_work(make_session_factory(engine)) as db:
        linkage.provision_all(db, pki.trust_services(settings, Clock()), linkage.linkage_keys(settings))
        db.execute(
            insert(Entitlement),
            [
                {
                    "programme_id": PROGRAMME,
                    "period": "once",
                    "person_id": p,
                    "payee_person_id": p,
                    "amount": 30_000,
                    "basis": {},
                    "state": "confirmed",
                    "account": {
                        "bank_code": "0001",
                        "bank_name": "みずほ銀行",
                        "branch_code": "001",
                        "branch_name": "東京営業部",
                        "deposit_type": "1",
                        "account_number": f"{p:07d}",
                        "holder_kana": "ﾔﾏﾀﾞ ﾀﾛｳ",
                    },
                    "account_stale": False,
                    "reason": "",
                    "created_at": now,
                    "updated_at": now,
                }
                for p in range(1, 4)
            ],
        )
    engine.dispose()
    return data


def run(data_dir: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(build(), [*args, "--data-dir", str(data_dir)])
    return result.exit_code, result.stdout, result.stderr


def test_run_results_and_reconcile(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, stdout, stderr = run(data_dir, "payments", "run", PROGRAMME, "--out", str(out), "--json")
    assert code == 0, stderr
    report = json.loads(stdout)
    assert (report["instructions"], report["total"], report["state"]) == (3, 90_000, "written")
    (written,) = report["files"]
    data = (out / written["name"]).read_bytes()
    assert zengin.validate(zengin.parse(data)) == []
    assert payments.is_business_day(dt.date.fromisoformat(report["transfer_date"]))

    code, text, _ = run(data_dir, "payments", "run", PROGRAMME, "--out", str(out))
    assert code == 0
    assert "(resumed)" in text
    assert str(out / written["name"]) in text

    result = tmp_path / "result.txt"
    result.write_bytes(payments.simulate_bank(data, {1}))
    code, stdout, stderr = run(data_dir, "payments", "results", str(result), "--json")
    assert code == 0, stderr
    assert (json.loads(stdout)["paid"], json.loads(stdout)["failed"]) == (2, 1)
    code, text, _ = run(data_dir, "payments", "results", str(result))
    assert code == 0
    assert "already imported" in text

    code, stdout, _ = run(data_dir, "payments", "reconcile", PROGRAMME, "--json")
    assert code == 0
    tally = json.loads(stdout)["runs"][0]["tally"]
    assert (tally["paid"]["yen"], tally["failed"]["count"]) == (60_000, 1)
    code, stdout, _ = run(data_dir, "payments", "reconcile", PROGRAMME, "--csv")
    assert code == 0
    assert stdout.startswith("\ufeffprogramme,period,level")


def test_errors_exit_non_zero_with_the_reason(data_dir: Path, tmp_path: Path) -> None:
    code, _, stderr = run(
        data_dir, "payments", "run", PROGRAMME, "--date", "2026-12-26", "--out", str(tmp_path)
    )
    assert code != 0
    assert "not a bank business day" in stderr
    code, _, stderr = run(data_dir, "payments", "run", "no-such-programme")
    assert code != 0
    assert "no-such-programme" in stderr
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"1" * 119 + b"\r\n")
    code, stdout, _ = run(data_dir, "payments", "results", str(bad), "--json")
    assert code != 0
    assert "Nothing was imported" in json.loads(stdout)["message"]


def test_run_with_a_record_limit_and_a_date_says_where_the_files_are(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "files"
    day = payments.next_business_day(dt.date.today() + dt.timedelta(days=10))  # noqa: DTZ011 - the CLI's own clock
    args = ("payments", "run", PROGRAMME, "--out", str(out), "--record-limit", "2", "--date", day.isoformat())
    code, text, stderr = run(data_dir, *args)
    assert code == 0, stderr
    names = sorted(p.name for p in out.glob("*.txt"))
    assert names == ["emergency-2026-once-a1-0138-001.txt", "emergency-2026-once-a1-0138-002.txt"]
    assert all(str(out / name) in text for name in names)
    assert f"振込指定日 {day}" in text
    assert "instruct:" in stderr  # progress on stderr

"""``tsunagu health doses list|record|correct`` over a data directory: a dose is recorded (JSON on stdout), listed,
corrected (the old entry superseded); a bad entry exits non-zero with the reason and writes nothing."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from tsunagu.cli import build
from tsunagu.db.engine import make_engine, make_session_factory, unit_of_work
from tsunagu.kernel.clock import Clock
from tsunagu.registry import api as registry
from tsunagu.settings import load_settings

SECRET = base64.b64encode(bytes(range(32))).decode()


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(build(), list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def resident(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, int]:
    monkeypatch.setenv("TSUNAGU_SECRET_KEY", SECRET)
    monkeypatch.delenv("TSUNAGU_DATABASE_URL", raising=False)
    data = tmp_path / "data"
    assert run("db", "upgrade", "--data-dir", str(data))[0] == 0
    settings = load_settings(data_dir=data)
    reg = registry.registry_context(settings, Clock())
    with unit_of_work(make_session_factory(make_engine(settings))) as db:
        who = registry.start_record(
            db,
            reg,
            registry.EventKind.MOVE_IN,
            registry.NewPerson(
                "山田", "花子", "ヤマダ", "ハナコ", dt.date(1970, 4, 1), registry.Sex.FEMALE, None
            ),
            registry.NewAddress("本町", "1番2号", ""),
            registry.Placement(),
            dt.date(2020, 4, 1),
            registry.Filing("test-clerk"),
            from_lg_code="131016",
        )
    return data, who


def test_record_list_and_correct(resident: tuple[Path, int]) -> None:
    data, who = resident
    base = ("--person", str(who), "--data-dir", str(data))
    code, out, _ = run(
        "health",
        "doses",
        "record",
        "--date",
        "2021-06-01",
        "--cvx",
        "208",
        "--lot",
        "fa5829",
        *base,
        "--json",
    )
    assert code == 0, out
    dose = json.loads(out)["dose"]
    assert (dose["lot"], dose["manufacturer"], dose["performer"]) == ("FA5829", "PFR", "神奈川県藤沢市")
    code, out, _ = run(
        "health",
        "doses",
        "correct",
        str(dose["dose_id"]),
        "--date",
        "2021-06-02",
        "--cvx",
        "208",
        "--lot",
        "FA5830",
        *base,
    )
    assert code == 0, out
    code, out, _ = run("health", "doses", "list", *base, "--json")
    listed = json.loads(out)["doses"]
    assert [(d["occurrence"], d["lot"]) for d in listed] == [("2021-06-02", "FA5830")]


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("--date", "2021-01-01", "--cvx", "208", "--lot", "A1"), "before COVID-19 vaccination began"),
        (("--date", "2021-06-01", "--cvx", "207", "--manufacturer", "PFR", "--lot", "A1"), "manufacturer"),
        (("--date", "June", "--cvx", "208", "--lot", "A1"), "YYYY-MM-DD"),
    ],
)
def test_a_bad_entry_writes_nothing(resident: tuple[Path, int], args: tuple[str, ...], reason: str) -> None:
    data, who = resident
    code, out, _ = run(
        "health", "doses", "record", *args, "--person", str(who), "--data-dir", str(data), "--json"
    )
    assert code == 1
    assert reason in json.loads(out)["message"]
    code, out, _ = run("health", "doses", "list", "--person", str(who), "--data-dir", str(data), "--json")
    assert json.loads(out)["doses"] == []


def test_a_correction_from_the_cli_revokes_the_health_card_that_showed_the_old_dose(
    resident: tuple[Path, int], tmp_path: Path
) -> None:
    """The shell gives the CLI the same dose listeners as the app (wiring.cli_dose_listeners)."""
    data, who = resident
    base = ("--person", str(who), "--data-dir", str(data))
    code, out, _ = run(
        "health", "doses", "record", "--date", "2021-06-01", "--cvx", "208", "--lot", "FA1", *base, "--json"
    )
    assert code == 0, out
    dose_id = json.loads(out)["dose"]["dose_id"]
    code, out, _ = run("credentials", "issue", *base, "--out", str(tmp_path / "cards"), "--json")
    assert code == 0, out

    def revocations() -> int:
        with unit_of_work(make_session_factory(make_engine(load_settings(data_dir=data)))) as db:
            return int(db.execute(text("SELECT count(*) FROM cred_shc_revocations")).scalar_one())

    assert revocations() == 0
    code, out, _ = run(
        "health",
        "doses",
        "correct",
        str(dose_id),
        "--date",
        "2021-06-01",
        "--cvx",
        "208",
        "--lot",
        "FA2",
        *base,
    )
    assert code == 0, out
    assert revocations() == 1

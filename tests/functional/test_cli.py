"""The `tsunagu` command as a script would use it: --json shapes, exit codes, messages that say what to do."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tsunagu.cli import build

Invoke = Callable[..., tuple[int, str, str]]
SECRET = base64.b64encode(bytes(range(32))).decode()


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    monkeypatch.setenv("TSUNAGU_SECRET_KEY", SECRET)
    monkeypatch.delenv("TSUNAGU_DATABASE_URL", raising=False)
    app = build()
    runner = CliRunner()
    data_dir = tmp_path / "data"

    def invoke(*args: str, ok: bool = True) -> tuple[int, str, str]:
        result = runner.invoke(app, [*args, "--data-dir", str(data_dir)])
        if ok:
            assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
        return result.exit_code, result.stdout, result.stderr

    return invoke


def _json(out: str) -> dict[str, Any]:
    data = json.loads(out)
    assert isinstance(data, dict)
    return data


def test_demo_seeds_once_and_reports_json(run: Invoke) -> None:
    _, out, _ = run("demo", "--no-serve", "--residents", "120", "--json")
    first = _json(out)
    assert first["ok"] is True
    assert first["seeded_now"] is True
    assert first["seed"]["residents"] == 120
    assert {x["username"] for x in first["logins"]} == {
        "clerk",
        "counter",
        "auditor",
        "carddesk",
        "chiyoda",
        "kyufu",
        "bank",
        "hoken",
        "housei",
    }
    _, out, _ = run("demo", "--no-serve", "--residents", "120", "--json")
    again = _json(out)
    assert again["seeded_now"] is False
    assert again["seed"] == first["seed"]
    _, out, _ = run("registry", "stats", "--json")
    assert _json(out)["residents"] == 120


def test_recording_through_the_cli_and_its_errors(run: Invoke) -> None:
    run("demo", "--no-serve", "--residents", "20", "--json")
    _, out, _ = run(
        "registry",
        "register",
        "move-in",
        "--family-name",
        "山田",
        "--given-name",
        "太郎",
        "--family-kana",
        "ヤマダ",
        "--given-kana",
        "タロウ",
        "--birth-date",
        "1950-04-01",
        "--sex",
        "male",
        "--town",
        "鵠沼海岸一丁目",
        "--block",
        "1番1号",
        "--date",
        "2026-11-01",
        "--from",
        "131016",
        "--json",
    )
    pid = str(_json(out)["person_id"])
    _, out, _ = run("registry", "record", "death", pid, "--date", "2026-11-20", "--json")
    assert _json(out)["person_ids"] == [int(pid)]
    code, _, err = run("registry", "record", "death", pid, "--date", "2026-11-21", ok=False)
    assert code == 1
    assert "needs a current resident" in err
    assert "nothing was written" in err
    code, out, _ = run("registry", "record", "teleport", pid, "--date", "2026-11-22", "--json", ok=False)
    assert code == 1
    assert _json(out) == {
        "ok": False,
        "error": "error",
        "message": "Unknown kind 'teleport': use move, move-out or death.",
    }
    code, out, _ = run(
        "registry", "record", "move-out", "1", "--date", "2026-11-26", "--to", "999999", "--json", ok=False
    )
    assert code == 1
    problem = _json(out)
    assert problem["error"] == "invalid-identifier"
    assert "check digit" in str(problem["message"])
    code, _, err = run("registry", "record", "move", "1", "--date", "26/11/2026", ok=False)
    assert code == 1
    assert "YYYY-MM-DD" in err


def test_register_protect_and_verify(run: Invoke) -> None:
    run("demo", "--no-serve", "--residents", "30", "--json")
    _, out, _ = run(
        "registry",
        "register",
        "move-in",
        "--family-name",
        "山田",
        "--given-name",
        "花子",
        "--family-kana",
        "やまだ",
        "--given-kana",
        "ハナコ",
        "--birth-date",
        "1990-04-01",
        "--sex",
        "female",
        "--town",
        "鵠沼海岸一丁目",
        "--block",
        "1番1号",
        "--date",
        "2026-11-01",
        "--from",
        "131016",
        "--json",
    )
    pid = _json(out)["person_id"]
    _, out, _ = run("registry", "protect", str(pid), "--json")
    assert _json(out)["person_ids"] == [pid]
    _, out, _ = run("registry", "show", str(pid), "--json")
    shown = _json(out)["resident"]
    assert shown["family_name_kana"] == "ヤマダ"
    _, out, _ = run("registry", "verify", "--json")
    assert _json(out)["mismatches"] == []
    code, _, err = run(
        "registry",
        "register",
        "birth",
        "--family-name",
        "山田",
        "--given-name",
        "未来",
        "--family-kana",
        "ヤマダ",
        "--given-kana",
        "ミライ",
        "--birth-date",
        "2999-01-01",
        "--sex",
        "female",
        "--town",
        "鵠沼海岸一丁目",
        "--block",
        "1番1号",
        ok=False,
    )
    assert code == 1
    assert "future" in err


def test_export_then_import_elsewhere_round_trips(run: Invoke, tmp_path: Path) -> None:
    run("demo", "--no-serve", "--residents", "40", "--json")
    target = tmp_path / "residents.csv"
    _, out, _ = run("registry", "export", str(target), "--json")
    assert _json(out)["rows"] == 40
    text = target.read_text(encoding="utf-8")
    assert "my_number" not in text.splitlines()[0]
    runner = CliRunner()
    other = tmp_path / "other"
    app = build()
    assert runner.invoke(app, ["db", "upgrade", "--data-dir", str(other)]).exit_code == 0
    first = runner.invoke(app, ["registry", "import", str(target), "--data-dir", str(other), "--json"])
    assert first.exit_code == 0, first.stdout
    assert json.loads(first.stdout)["persons"] == 40
    second = runner.invoke(app, ["registry", "import", str(target), "--data-dir", str(other), "--json"])
    assert json.loads(second.stdout)["already_imported"] is True
    missing = runner.invoke(app, ["registry", "import", str(tmp_path / "nope.csv"), "--data-dir", str(other)])
    assert missing.exit_code == 1
    assert "No such file" in missing.stderr

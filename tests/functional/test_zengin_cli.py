"""``tsunagu zengin validate``: exit 0 for a valid 総合振込 file, 1 with every reason for an invalid one."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from typer.testing import CliRunner

from tsunagu.cli import build
from tsunagu.payments.core import zengin

HEADER = zengin.Header("1234567890", "ﾌｼﾞｻﾜｼ", dt.date(2026, 12, 10), "0001", "001", "1", "1234567")


def _write(path: Path, amount_in_trailer: int | None = None) -> Path:
    items = [zengin.Transfer("0005", "123", "1", "7654321", "ﾔﾏﾀﾞ ﾀﾛｳ", 50_000)]
    data = b"".join(zengin.write(HEADER, items))
    if amount_in_trailer is not None:
        records = data.split(b"\r\n")
        records[2] = records[2][:7] + str(amount_in_trailer).rjust(12, "0").encode() + records[2][19:]
        data = b"\r\n".join(records)
    path.write_bytes(data)
    return path


def test_a_valid_file_passes(tmp_path: Path) -> None:
    result = CliRunner().invoke(build(), ["zengin", "validate", str(_write(tmp_path / "ok.txt")), "--json"])
    assert result.exit_code == 0, result.stdout
    body = json.loads(result.stdout)
    assert (body["ok"], body["transfers"], body["total"], body["problems"]) == (True, 1, 50_000, [])


def test_an_invalid_file_fails_with_its_reasons(tmp_path: Path) -> None:
    bad = _write(tmp_path / "bad.txt", amount_in_trailer=1)
    result = CliRunner().invoke(build(), ["zengin", "validate", str(bad), "--json"])
    assert result.exit_code == 1
    problems = json.loads(result.stdout)["problems"]
    assert [(p["record"], p["field"]) for p in problems] == [(3, "total_amount")]
    assert "合計金額" in problems[0]["ja"]
    text = CliRunner().invoke(build(), ["zengin", "validate", str(bad)])
    assert text.exit_code == 1
    assert "INVALID" in text.stdout


def test_a_missing_file_or_a_bad_option_is_a_usage_error(tmp_path: Path) -> None:
    missing = CliRunner().invoke(build(), ["zengin", "validate", str(tmp_path / "none.txt")])
    assert missing.exit_code == 2
    option = CliRunner().invoke(
        build(), ["zengin", "validate", str(_write(tmp_path / "f.txt")), "--newline", "X"]
    )
    assert option.exit_code == 2

"""``tsunagu card ...`` as a script would use it: issue, show, sign and verify, PIN lockout kept across
invocations, staff unlock, suspend, restore and loss."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
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

    def invoke(*args: str, ok: bool = True, stdin: str | None = None) -> tuple[int, str, str]:
        result = runner.invoke(app, [*args, "--data-dir", str(data_dir)], input=stdin)
        if ok:
            assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
        return result.exit_code, result.stdout, result.stderr

    return invoke


def _json(out: str) -> dict[str, Any]:
    data = json.loads(out)
    assert isinstance(data, dict)
    return data


def _register(run: Invoke, birth: str) -> int:
    _, out, _ = run(
        "registry",
        "register",
        "move-in",
        *(
            "--family-name",
            "鈴木",
            "--given-name",
            "一郎",
            "--family-kana",
            "スズキ",
            "--given-kana",
            "イチロウ",
        ),
        *("--birth-date", birth, "--sex", "male", "--town", "鵠沼海岸一丁目", "--block", "2番3号"),
        *("--date", "2026-11-01", "--from", "131016", "--json"),
    )
    return int(_json(out)["person_id"])


def test_issue_sign_verify_and_lockout(run: Invoke, tmp_path: Path) -> None:
    run("db", "upgrade")
    pid = _register(run, "1985-07-07")
    pins = tmp_path / "pins.txt"
    pins.write_text("authentication=1234\nsignature=SUZUKI7\nsurface=4321\n")
    _, out, _ = run("card", "issue", str(pid), "--pins-file", str(pins), "--json")
    issued = _json(out)
    serial = issued["serial"]
    assert issued["status"] == "active"
    assert issued["signature_valid"] is True
    assert len(serial.replace("-", "")) == 12

    _, out, _ = run("card", "show", "--person", str(pid), "--json")
    assert [c["serial"] for c in _json(out)["cards"]] == [serial]
    code, out, _ = run("card", "issue", str(pid), "--pins-file", str(pins), "--json", ok=False)
    assert code == 1
    assert _json(out)["error"] == "conflict"

    doc = tmp_path / "doc.txt"
    doc.write_text("転出届 2026-12-01\n")
    sig = tmp_path / "doc.sig"
    wrong = tmp_path / "wrong.pin"
    wrong.write_text("WRONG99\n")
    code, out, _ = run(
        "card",
        "sign",
        serial,
        "--in",
        str(doc),
        "--out",
        str(sig),
        "--pin-file",
        str(wrong),
        "--json",
        ok=False,
    )
    assert code == 1
    assert _json(out)["error"] == "wrong-pin"
    _, out, _ = run("card", "status", serial, "--json")  # the failure was kept by the previous process
    assert _json(out)["pins"]["signature"] == {"remaining": 4, "locked": False}

    # the PIN asked for with hidden input
    _, out, _ = run("card", "sign", serial, "--in", str(doc), "--out", str(sig), stdin="SUZUKI7\n")
    assert "signature written" in out
    _, out, _ = run("card", "status", serial, "--json")
    assert _json(out)["pins"]["signature"]["remaining"] == 5
    _, out, _ = run("card", "verify", "--serial", serial, "--in", str(doc), "--sig", str(sig))
    assert out.strip() == "valid"
    doc.write_text("転出届 2026-12-02\n")
    code, out, _ = run("card", "verify", "--serial", serial, "--in", str(doc), "--sig", str(sig), ok=False)
    assert code == 1


def test_lockout_is_kept_between_runs_and_staff_unlock(run: Invoke, tmp_path: Path) -> None:
    run("db", "upgrade")
    pid = _register(run, "1985-07-07")
    _, out, _ = run(
        "card", "issue", str(pid), "--auth-pin", "1234", "--signature-pin", "SUZUKI7", "--surface-pin", "4321",
        "--json",
    )  # fmt: skip
    serial = _json(out)["serial"]
    doc, sig = tmp_path / "doc.txt", tmp_path / "doc.sig"
    doc.write_text("challenge")
    short = tmp_path / "short.pin"
    short.write_text("0000\n")
    for _ in range(3):
        run("card", "sign", serial, "--slot", "authentication", "--in", str(doc), "--out", str(sig),
            "--pin-file", str(short), ok=False)  # fmt: skip
    good = tmp_path / "good.pin"
    good.write_text("1234\n")
    code, out, _ = run(
        "card", "sign", serial, "--slot", "authentication", "--in", str(doc), "--out", str(sig),
        "--pin-file", str(good), "--json", ok=False,
    )  # fmt: skip
    assert code == 1
    assert _json(out)["error"] == "pin-locked"

    code, out, _ = run(
        "card", "unlock", serial, "--slot", "authentication", "--staff", "nobody", "--pin-file", str(good),
        "--json", ok=False,
    )  # fmt: skip
    assert _json(out)["error"] == "not-found"
    run(
        "staff",
        "create",
        "carddesk",
        "--name",
        "交付 窓口",
        "--role",
        "card_desk",
        "--password",
        "card-desk-pass-1",
    )
    run(
        "staff",
        "create",
        "counter",
        "--name",
        "窓口",
        "--role",
        "counter_staff",
        "--password",
        "counter-pass-22",
    )
    code, out, _ = run(
        "card", "unlock", serial, "--slot", "authentication", "--staff", "counter", "--pin-file", str(good),
        "--json", ok=False,
    )  # fmt: skip
    assert _json(out)["error"] == "forbidden"
    run("card", "unlock", serial, "--slot", "authentication", "--staff", "carddesk", "--pin-file", str(good))
    _, out, _ = run("card", "status", serial)
    assert "3 tries left" in out


def test_suspend_restore_loss_and_a_signature_from_before(run: Invoke, tmp_path: Path) -> None:
    run("db", "upgrade")
    pid = _register(run, "1970-01-15")
    _, out, _ = run(
        "card", "issue", str(pid), "--auth-pin", "1111", "--signature-pin", "ABCDEF1", "--surface-pin", "2222",
        "--json",
    )  # fmt: skip
    serial = _json(out)["serial"]
    doc, sig = tmp_path / "doc.txt", tmp_path / "doc.sig"
    doc.write_bytes(b"contract")
    pin = tmp_path / "pin"
    pin.write_text("ABCDEF1")
    run("card", "sign", serial, "--in", str(doc), "--out", str(sig), "--pin-file", str(pin))
    signed_at = dt.datetime.now(dt.UTC).isoformat()
    time.sleep(1.1)  # revocation times are kept to the second: revoke in a later second than the signature

    _, out, _ = run("card", "suspend", serial, "--json")
    assert _json(out)["status"] == "suspended"
    code, out, _ = run("card", "sign", serial, "--in", str(doc), "--out", str(sig), "--pin-file", str(pin),
                       "--json", ok=False)  # fmt: skip
    assert _json(out)["error"] == "card-suspended"
    _, out, _ = run("card", "restore", serial, "--json")
    assert _json(out)["status"] == "active"
    _, out, _ = run("card", "report-loss", serial, "--json")
    assert (_json(out)["status"], _json(out)["status_reason"]) == ("revoked", "lost")

    code, out, _ = run("card", "verify", "--serial", serial, "--in", str(doc), "--sig", str(sig), ok=False)
    assert code == 1  # taken as signed now, after the revocation: refused
    _, out, _ = run(
        "card", "verify", "--serial", serial, "--in", str(doc), "--sig", str(sig), "--signed-at", signed_at
    )
    assert out.startswith("valid (the certificate was revoked at "), signed_at
    assert "after signing" in out


def test_a_child_is_not_asked_for_a_signature_pin(run: Invoke) -> None:
    run("db", "upgrade")
    pid = _register(run, "2016-05-05")
    _, out, _ = run("card", "issue", str(pid), stdin="1234\n1234\n5678\n5678\n")
    assert "under 15: no signature certificate" in out
    _, out, _ = run("card", "show", "--person", str(pid), "--json")
    (card,) = _json(out)["cards"]
    assert card["signature_certificate"] is None
    _, out, _ = run("card", "status", card["serial"], "--json")
    assert set(_json(out)["pins"]) == {"authentication", "surface"}


def test_reissue_revokes_the_old_card_and_issues_a_new_one(run: Invoke) -> None:
    run("db", "upgrade")
    pid = _register(run, "1980-06-01")
    _, out, _ = run(
        "card", "issue", str(pid), "--auth-pin", "1111", "--signature-pin", "ABCDEF1", "--surface-pin", "2222",
        "--json",
    )  # fmt: skip
    old = _json(out)["serial"]
    _, out, _ = run(
        "card", "reissue", old, "--auth-pin", "3333", "--signature-pin", "GHIJK22", "--surface-pin", "4444",
        "--json",
    )  # fmt: skip
    new = _json(out)
    assert new["replaces"].replace("-", "") == old.replace("-", "")
    assert new["serial"] != old
    assert new["status"] == "active"
    _, out, _ = run("card", "show", "--person", str(pid), "--json")
    statuses = {c["serial"]: c["status"] for c in _json(out)["cards"]}
    assert statuses == {new["serial"]: "active", old: "revoked"}
    code, out, _ = run("card", "reissue", "ZZZZ-ZZZZ-ZZZZ", "--auth-pin", "1", "--json", ok=False)
    assert code == 1

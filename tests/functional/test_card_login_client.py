"""`tsunagu card login --server URL`: a non-browser client completes the card-login protocol over real HTTP
against a running server (uvicorn in a thread), with the software chip of the same data directory."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from typer.testing import CliRunner

from tsunagu.app import create_app
from tsunagu.cli import build
from tsunagu.kernel.clock import Clock
from tsunagu.settings import Settings

from .conftest import AUTH_PIN, SECRET, Holder


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def live_server(web_settings: Settings) -> Iterator[str]:
    """The module's data directory served over HTTP on 127.0.0.1 (public URL = that address), real clock."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    settings = web_settings.model_copy(update={"public_url": url})
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, Clock()), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    assert server.started, "the test server did not start"
    yield url
    server.should_exit = True
    thread.join(timeout=10)


def _cli(web_settings: Settings, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str, str]:
    monkeypatch.setenv("TSUNAGU_SECRET_KEY", SECRET)
    if web_settings.database_url:
        monkeypatch.setenv("TSUNAGU_DATABASE_URL", web_settings.database_url)
    else:
        monkeypatch.delenv("TSUNAGU_DATABASE_URL", raising=False)
    result = CliRunner().invoke(build(), [*args, "--data-dir", str(web_settings.data_dir)])
    return result.exit_code, result.stdout, result.stderr


def test_card_login_client_logs_in_over_http(
    live_server: str, web_settings: Settings, holder: Holder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pin_file = tmp_path / "pin"
    pin_file.write_text(AUTH_PIN + "\n")
    code, out, err = _cli(
        web_settings,
        monkeypatch,
        "card",
        "login",
        "--server",
        live_server,
        "--card",
        holder.serial,
        "--pin-file",
        str(pin_file),
        "--json",
        "--show-session",
    )
    assert code == 0, (out, err)
    answer = json.loads(out)
    assert answer["ok"] is True
    assert answer["session"]
    assert answer["display_name"]


def test_card_login_client_reports_a_wrong_pin_and_keeps_the_count(
    live_server: str, web_settings: Settings, holder: Holder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pin_file = tmp_path / "pin"
    pin_file.write_text("0000")
    code, out, _ = _cli(
        web_settings,
        monkeypatch,
        "card",
        "login",
        "--server",
        live_server,
        "--card",
        holder.serial,
        "--pin-file",
        str(pin_file),
        "--json",
    )
    assert code == 1
    assert json.loads(out)["error"] == "wrong-pin"
    code, out, _ = _cli(web_settings, monkeypatch, "card", "status", holder.serial, "--json")
    assert code == 0, out
    assert json.loads(out)["pins"]["authentication"] == {"remaining": 2, "locked": False}


def test_card_login_client_refuses_a_server_that_names_another_audience(
    live_server: str, web_settings: Settings, holder: Holder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pin_file = tmp_path / "pin"
    pin_file.write_text(AUTH_PIN)
    relayed = live_server.replace("127.0.0.1", "localhost")  # same server, reached under another name
    code, out, _ = _cli(
        web_settings,
        monkeypatch,
        "card",
        "login",
        "--server",
        relayed,
        "--card",
        holder.serial,
        "--pin-file",
        str(pin_file),
        "--json",
    )
    assert code == 1
    assert "not signing" in json.loads(out)["message"]
    code, out, _ = _cli(web_settings, monkeypatch, "card", "status", holder.serial, "--json")
    assert json.loads(out)["pins"]["authentication"]["remaining"] == 3  # the chip was never asked to sign

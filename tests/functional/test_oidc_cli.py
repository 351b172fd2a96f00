"""`tsunagu oidc register|list|revoke`: the secret is printed once and stored only as a hash."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tsunagu.cli import build
from tsunagu.db.engine import make_engine, make_session_factory, unit_of_work
from tsunagu.db.migrate import upgrade
from tsunagu.identity.oidc.models import OidcClient
from tsunagu.kernel.crypto import token_hash
from tsunagu.settings import Settings

SECRET = base64.b64encode(bytes(range(32))).decode()
Invoke = Callable[..., tuple[int, dict[str, Any], str]]


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TSUNAGU_SECRET_KEY", SECRET)
    monkeypatch.delenv("TSUNAGU_DATABASE_URL", raising=False)
    path = tmp_path / "data"
    upgrade(Settings(data_dir=path, secret_key=SECRET))
    return path


@pytest.fixture
def run(data_dir: Path) -> Invoke:
    app = build()
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True) -> tuple[int, dict[str, Any], str]:
        result = runner.invoke(app, ["oidc", *args, "--data-dir", str(data_dir), "--json"])
        if ok:
            assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
        return result.exit_code, json.loads(result.stdout), result.stderr

    return invoke


def _rows(data_dir: Path) -> list[OidcClient]:
    engine = make_engine(Settings(data_dir=data_dir, secret_key=SECRET))
    try:
        with unit_of_work(make_session_factory(engine)) as db:
            return list(db.scalars(select(OidcClient)))
    finally:
        engine.dispose()


def test_register_list_and_revoke(run: Invoke, data_dir: Path) -> None:
    _, made, _ = run(
        "register",
        "--name",
        "つなぐ銀行",
        "--name-en",
        "Tsunagu Bank",
        "--sector",
        "private",
        "--redirect-uri",
        "https://bank.example.jp/callback",
        "--redirect-uri",
        "https://app.bank.example.jp/callback",
        "--sector-identifier",
        "bank.example.jp",
        "--scopes",
        "openid profile address",
    )
    assert made["ok"] is True
    assert made["client_secret"]
    [row] = _rows(data_dir)
    assert row.secret_hash == token_hash(made["client_secret"])
    assert made["client_secret"] not in json.dumps(row.redirect_uris) + row.scopes
    _, listed, _ = run("list")
    [shown] = listed["clients"]
    assert shown["client_id"] == made["client_id"]
    assert "client_secret" not in json.dumps(listed)
    assert shown["scopes"] == ["openid", "profile", "address"]
    _, revoked, _ = run("revoke", made["client_id"])
    assert revoked["revoked"] is True
    assert run("list")[1]["clients"][0]["revoked"] is True


def test_a_public_client_gets_no_secret(run: Invoke) -> None:
    _, made, _ = run(
        "register",
        "--name",
        "つなぐアプリ",
        "--name-en",
        "Tsunagu App",
        "--sector",
        "public",
        "--redirect-uri",
        "http://127.0.0.1:9000/cb",
        "--public-client",
    )
    assert made["client_secret"] is None
    assert made["sector_identifier"] == "127.0.0.1"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--sector", "other", "--redirect-uri", "https://a.example/cb"], "Sector must be"),
        (["--sector", "private", "--redirect-uri", "http://a.example/cb"], "uses http"),
        (["--sector", "private", "--redirect-uri", "https://a.example/cb#x"], "without a fragment"),
        (["--sector", "private", "--redirect-uri", "https://a.example/cb", "--scopes", "profile"], "openid"),
        (
            ["--sector", "private", "--redirect-uri", "https://a.example/cb", "--scopes", "openid email"],
            "email",
        ),
        (
            [
                "--sector",
                "private",
                "--redirect-uri",
                "https://a.example/cb",
                "--redirect-uri",
                "https://b.example/cb",
            ],
            "--sector-identifier",
        ),
    ],
)
def test_registration_refuses_bad_input_clearly(run: Invoke, args: list[str], words: str) -> None:
    code, out, _ = run("register", "--name", "名", "--name-en", "Name", *args, ok=False)
    assert code == 1
    assert out["ok"] is False
    assert words in out["message"]


def test_revoking_an_unknown_client_fails(run: Invoke) -> None:
    code, out, _ = run("revoke", "rp-nope", ok=False)
    assert code == 1
    assert out["error"] == "not-found"

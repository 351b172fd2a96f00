"""``tsunagu credentials sdjwt`` and ``tsunagu credentials wallet`` from the command line: issue to the wallet's
key, add, list, revoke; a private key and a credential bound to another key are refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from tests.integration.conftest import move_in
from typer.testing import CliRunner

from tsunagu.cli import build
from tsunagu.credentials.models_sdjwt import IssuedSdJwt
from tsunagu.kernel.clock import Clock
from tsunagu.registry.api import registry_context
from tsunagu.settings import Settings


@pytest.fixture
def env(settings: Settings) -> dict[str, str]:
    values = {
        "TSUNAGU_DATA_DIR": str(settings.data_dir),
        "TSUNAGU_SECRET_KEY": settings.secret_key.get_secret_value(),
    }  # type: ignore[union-attr]
    if settings.database_url:
        values["TSUNAGU_DATABASE_URL"] = settings.database_url
    return values


def _run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(build(), ["credentials", *args], env=env)
    return result.exit_code, result.stdout


def test_issue_add_list_and_revoke(
    env: dict[str, str],
    settings: Settings,
    clock: Clock,
    session_factory: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    with session_factory.begin() as db:
        person = move_in(db, registry_context(settings, clock))
    wallet = tmp_path / "w"
    code, out = _run(env, "wallet", "init", "--dir", str(wallet), "--json")
    assert code == 0, out
    (tmp_path / "jwk.json").write_text(json.dumps(json.loads(out)["jwk"]))
    code, out = _run(
        env, "sdjwt", "issue", "--person", str(person), "--kind", "age", "--holder-jwk", str(tmp_path / "jwk.json"),
        "--out", str(tmp_path / "age.txt"), "--json",
    )  # fmt: skip
    assert code == 0, out
    issued = json.loads(out)
    assert issued["kind"] == "age"
    assert issued["compact"] is None  # written to the file, not printed
    code, out = _run(env, "wallet", "add", str(tmp_path / "age.txt"), "--dir", str(wallet), "--json")
    assert code == 0, out
    code, out = _run(env, "wallet", "list", "--dir", str(wallet), "--json")
    [held] = json.loads(out)["credentials"]
    assert held["vct"] == "urn:jp:tsunagu:vct:age:1"
    assert "age_over_20" in held["claims"]
    code, out = _run(
        env, "sdjwt", "revoke", str(issued["credential_id"]), "--reason", "holder_request", "--json"
    )
    assert code == 0, out
    with session_factory() as db:
        row = db.get(IssuedSdJwt, issued["credential_id"])
        assert row is not None
        assert row.revoked_reason == "holder_request"
    other = tmp_path / "other"
    _run(env, "wallet", "init", "--dir", str(other))
    code, out = _run(env, "wallet", "add", str(tmp_path / "age.txt"), "--dir", str(other), "--json")
    assert code == 2
    assert "not bound" in json.loads(out)["message"]


def test_a_private_key_and_a_missing_licence_are_refused(
    env: dict[str, str],
    settings: Settings,
    clock: Clock,
    session_factory: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    with session_factory.begin() as db:
        person = move_in(db, registry_context(settings, clock))
    wallet = tmp_path / "w"
    _run(env, "wallet", "init", "--dir", str(wallet))
    private = tmp_path / "private.json"
    private.write_text((wallet / "key.json").read_text())
    code, out = _run(env, "sdjwt", "issue", "--person", str(person), "--holder-jwk", str(private), "--json")
    assert code == 1
    assert json.loads(out)["error"] == "holder-key-invalid"
    code, out = _run(env, "sdjwt", "licence-state", "--person", str(person), "--state", "suspended", "--json")
    assert code == 1
    assert json.loads(out)["error"] == "not-found"
    with session_factory() as db:
        assert db.query(IssuedSdJwt).count() == 0

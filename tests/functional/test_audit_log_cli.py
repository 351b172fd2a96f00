"""``tsunagu audit verify`` and ``tsunagu audit consistency``: the exchange log checked from the command line, and
a tampered entry reported by its index with exit code 1."""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tsunagu.cli import build
from tsunagu.db.engine import make_engine, make_session_factory, unit_of_work
from tsunagu.kernel.clock import Clock
from tsunagu.linkage import api as linkage
from tsunagu.linkage.log import services
from tsunagu.linkage.log.signer import LogSigner
from tsunagu.pki import api as pki
from tsunagu.settings import load_settings

from .. import rfc9162_verifier as rfc

Invoke = Callable[..., tuple[int, str, str]]
SECRET = base64.b64encode(bytes(range(32))).decode()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TSUNAGU_SECRET_KEY", SECRET)
    monkeypatch.delenv("TSUNAGU_DATABASE_URL", raising=False)
    return tmp_path / "data"


@pytest.fixture
def run(data_dir: Path) -> Invoke:
    app = build()
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True) -> tuple[int, str, str]:
        result = runner.invoke(app, [*args, "--data-dir", str(data_dir)])
        if ok:
            assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
        return result.exit_code, result.stdout, result.stderr

    invoke("db", "upgrade")
    return invoke


def log_exchanges(data_dir: Path, batches: list[int]) -> None:
    settings = load_settings(data_dir=data_dir)
    engine = make_engine(settings)
    signer = LogSigner.from_settings(settings)
    done = 0
    for size in batches:
        with unit_of_work(make_session_factory(engine)) as db:
            services.append(db, [f"exchange {done + i}".encode() for i in range(size)])
            services.sign_tree_head(db, Clock(), signer)
        done += size
    engine.dispose()


def test_verify_and_consistency_on_an_intact_log(run: Invoke, data_dir: Path) -> None:
    log_exchanges(data_dir, [5, 20, 1])
    _, out, _ = run("audit", "verify")
    assert "26 entries" in out
    assert "3 signed tree heads" in out
    _, out, _ = run("audit", "verify", "--json")
    report = json.loads(out)
    assert report["ok"] is True
    assert report["first_bad_index"] is None
    _, out, _ = run("audit", "consistency", "5", "26", "--json")
    proof = json.loads(out)
    assert proof["ok"] is True
    path = [base64.b64decode(h) for h in proof["consistency_path"]]
    old_root = base64.b64decode(proof["old_tree_head"]["root_hash"])
    new_root = base64.b64decode(proof["new_tree_head"]["root_hash"])
    assert rfc.verify_consistency(5, 26, old_root, new_root, path)
    _, out, _ = run("audit", "proof", "7")
    assert rfc.verify_inclusion_json(json.loads(out))


def test_a_missing_tree_head_is_a_clear_error(run: Invoke, data_dir: Path) -> None:
    log_exchanges(data_dir, [4])
    code, out, _ = run("audit", "consistency", "2", "4", "--json", ok=False)
    assert code == 1
    assert json.loads(out)["error"] == "not-found"


def test_a_tampered_entry_fails_verification_with_its_index(run: Invoke, data_dir: Path) -> None:
    log_exchanges(data_dir, [8, 8])
    with sqlite3.connect(data_dir / "tsunagu.db") as conn:  # a DBA, behind the application's back
        conn.execute("DROP TRIGGER linkage_log_entries_no_update")
        conn.execute(
            "UPDATE linkage_log_entries SET entry = CAST('exchange 99' AS BLOB) WHERE leaf_index = 11"
        )
    code, _, err = run("audit", "verify", ok=False)
    assert code == 1
    assert "first mismatching entry index 11" in err
    code, out, _ = run("audit", "verify", "--json", ok=False)
    assert code == 1
    assert json.loads(out)["first_bad_index"] == 11


def test_an_altered_exchange_in_the_hub_log_is_detected(run: Invoke, data_dir: Path) -> None:
    """Real exchanges through the hub, then one stored hub-log entry changed (the requester rewritten, as someone
    hiding who asked would do): ``tsunagu audit verify`` names the entry."""
    settings = load_settings(data_dir=data_dir)
    engine = make_engine(settings)
    factory = make_session_factory(engine)
    keys = linkage.linkage_keys(settings)
    trust = pki.trust_services(settings, Clock())
    with unit_of_work(factory) as db:
        linkage.provision_all(db, trust, keys)
        codes = []
        for person in (1, 2, 3):
            codes.append(linkage.code_for(db, keys, "LG-142051", person))
            tax = linkage.code_for(db, keys, "LG-142051-TAX", person)
            linkage.put_copy(db, "LG-142051-TAX", tax, {"local_tax.income": 1_000_000 * person})
    platform = linkage.build_exchange(factory, trust, keys)
    results = [
        linkage.ask(
            platform.uow,
            platform.ring,
            platform.local_hub(),
            linkage.new_request(
                "LG-142051", "LG-142051-TAX", "CHILD-ALLOWANCE-01", ("local_tax.income",), code
            ),
        )
        for code in codes
    ]
    with unit_of_work(factory) as db:
        services.sign_tree_head(db, Clock(), LogSigner.from_settings(settings))
    engine.dispose()
    _, out, _ = run("audit", "verify", "--json")
    assert json.loads(out)["ok"] is True
    target = results[1].log_index
    with sqlite3.connect(data_dir / "tsunagu.db") as conn:
        (entry,) = conn.execute(
            "SELECT entry FROM linkage_log_entries WHERE leaf_index = ?", (target,)
        ).fetchone()
        altered = bytes(entry).replace(b'"requester":"LG-142051"', b'"requester":"LG-131016"')
        assert altered != bytes(entry)
        conn.execute("DROP TRIGGER linkage_log_entries_no_update")
        conn.execute("UPDATE linkage_log_entries SET entry = ? WHERE leaf_index = ?", (altered, target))
    code, out, _ = run("audit", "verify", "--json", ok=False)
    assert code == 1
    assert json.loads(out)["first_bad_index"] == target

"""The fan-out worker killed mid-pass (the issue's kill test): a moving one-stop that derives eight applications
is filed through the services into a data directory; ``tsunagu procedures worker --once --exit-after 1`` runs as a
real process and ends abruptly (status 137, no cleanup) right after its first row committed; exactly one derived
application exists. A second worker creates the rest, each exactly once, and every outbox row is done. A worker
killed with SIGKILL at an arbitrary point leaves the same guarantees: each done row has its application and no
application exists twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.integration.procedures.conftest import Env, Now, build_env, moving_form

from tsunagu.db.engine import make_engine, make_session_factory
from tsunagu.db.migrate import upgrade
from tsunagu.kernel.clock import Clock
from tsunagu.procedures.models import Application, Outbox
from tsunagu.settings import Settings

PRIMARIES = {"tenshutsu", "tennyu-yoyaku"}
CLI = [sys.executable, "-c", "from tsunagu.cli import main; main()", "procedures", "worker", "--once"]


@pytest.fixture
def filed(tmp_path: Path) -> tuple[Path, Env, str]:
    """A data directory (SQLite, its own secret file) holding one filed moving one-stop; its bundle id."""
    settings = Settings(
        data_dir=tmp_path, environment="test", municipality_code="142051", cookie_secure=False
    )
    upgrade(settings)
    env = build_env(settings, make_session_factory(make_engine(settings)), Clock(), Now())
    home = env.household(nhi=True)
    app = env.submit(
        home.head, env.draft(home.head, "tenshutsu"), moving_form(["1", "2", "3"], on=Clock().today())
    )
    assert app.bundle_id is not None
    return tmp_path, env, app.bundle_id


def _environment() -> dict[str, str]:
    """The test's environment without TSUNAGU_* variables (the data dir alone says where everything is)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("TSUNAGU_")} | {"PYTHONUNBUFFERED": "1"}


def _state(env: Env, bundle_id: str) -> tuple[Counter[str], Counter[str]]:
    """Derived applications per bundle key, and outbox rows per state."""
    with env.sessions() as db:
        keys = Counter(
            k
            for k, pid in db.execute(
                select(Application.bundle_key, Application.procedure_id).where(
                    Application.bundle_id == bundle_id
                )
            )
            if pid not in PRIMARIES
        )
        states = Counter(db.scalars(select(Outbox.state).where(Outbox.bundle_id == bundle_id)))
    return keys, states


def test_a_worker_that_dies_after_one_row_leaves_one_and_a_restart_the_rest(
    filed: tuple[Path, Env, str],
) -> None:
    data_dir, env, bundle_id = filed
    _, states = _state(env, bundle_id)
    total = states["pending"]
    assert total >= 3
    died = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [*CLI, "--exit-after", "1", "--data-dir", str(data_dir)],
        env=_environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert died.returncode == 137, died.stderr
    keys, states = _state(env, bundle_id)
    assert sum(keys.values()) == 1
    assert (states["done"], states["pending"]) == (1, total - 1)

    again = subprocess.run(  # noqa: S603
        [*CLI, "--data-dir", str(data_dir)], env=_environment(), capture_output=True, text=True, check=False
    )
    assert again.returncode == 0, again.stderr
    assert f"pass: {total - 1} done, 0 failed, 0 dead" in again.stderr
    keys, states = _state(env, bundle_id)
    assert len(keys) == total
    assert set(keys.values()) == {1}
    assert states == Counter({"done": total})


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_a_worker_killed_with_sigkill_mid_pass(filed: tuple[Path, Env, str]) -> None:
    data_dir, env, bundle_id = filed
    _, states = _state(env, bundle_id)
    total = states["pending"]
    worker = subprocess.Popen(  # noqa: S603
        [*CLI, "--data-dir", str(data_dir)],
        env=_environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert worker.stderr is not None
    for line in worker.stderr:  # blocks until the first row committed: no sleeping, no timing
        if line.startswith("outbox row 1:"):
            break
    worker.send_signal(signal.SIGKILL)
    assert worker.wait() == -signal.SIGKILL
    worker.stderr.close()
    keys, states = _state(env, bundle_id)
    assert set(keys.values()) <= {1}  # wherever the kill landed: no duplicate …
    assert (
        sum(keys.values()) == states["done"] >= 1
    )  # … and each done row has its application, and only those
    again = subprocess.run(  # noqa: S603
        [*CLI, "--data-dir", str(data_dir)], env=_environment(), capture_output=True, text=True, check=False
    )
    assert again.returncode == 0, again.stderr
    keys, states = _state(env, bundle_id)
    assert len(keys) == total
    assert set(keys.values()) == {1}
    assert states == Counter({"done": total})

"""SQLite's writers queue on a kernel lock (``db.engine`` gate) instead of sleeping in SQLite's busy handler: a
second writer waits for the first to commit or roll back, then proceeds; a gate held by someone who never lets go
is given up after a while (SQLite's own locking still applies), so it can never deadlock."""

from __future__ import annotations

import fcntl
import os
import threading
import time

import pytest
from sqlalchemy import Engine

from tsunagu.db import engine as engine_module
from tsunagu.db.engine import make_session_factory, unit_of_work
from tsunagu.db.meta import get_meta, set_meta
from tsunagu.settings import Settings

pytestmark = pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)


def _gate_file(settings: Settings) -> str:
    return settings.sqlalchemy_url.removeprefix("sqlite:///") + ".writer-gate"


def test_a_second_writer_waits_for_the_first_to_commit(engine: Engine, settings: Settings) -> None:
    factory = make_session_factory(engine)
    order: list[str] = []
    first_wrote = threading.Event()

    def first() -> None:
        with unit_of_work(factory) as db:
            set_meta(db, "gate-a", {"n": 1})
            db.flush()  # the INSERT runs: this writer holds the gate
            first_wrote.set()
            time.sleep(0.3)
            order.append("first commits")

    def second() -> None:
        first_wrote.wait(5)
        with unit_of_work(factory) as db:
            set_meta(db, "gate-b", {"n": 2})
            db.flush()
            order.append("second wrote")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert order == ["first commits", "second wrote"]
    with unit_of_work(factory) as db:
        assert get_meta(db, "gate-a") == {"n": 1}
        assert get_meta(db, "gate-b") == {"n": 2}


def test_a_rollback_releases_the_gate(engine: Engine, settings: Settings) -> None:
    factory = make_session_factory(engine)

    def write_then_fail() -> None:
        with unit_of_work(factory) as db:
            set_meta(db, "gate-rolled-back", {"n": 1})
            db.flush()
            raise RuntimeError

    with pytest.raises(RuntimeError):
        write_then_fail()
    fd = os.open(_gate_file(settings), os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free again: no BlockingIOError
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def test_a_gate_never_released_is_given_up(
    engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "GATE_GIVE_UP", 0.2)
    factory = make_session_factory(engine)
    with unit_of_work(factory) as db:  # open a connection so the gate file exists
        get_meta(db, "nothing")
    fd = os.open(_gate_file(settings), os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)  # someone holds the gate but no SQLite lock
    try:
        started = time.monotonic()
        with unit_of_work(factory) as db:
            set_meta(db, "gate-given-up", {"n": 1})
        assert time.monotonic() - started >= 0.2
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    with unit_of_work(factory) as db:
        assert get_meta(db, "gate-given-up") == {"n": 1}

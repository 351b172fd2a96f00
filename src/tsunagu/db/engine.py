"""Engine and session factories. SQLite gets WAL and foreign keys on every connection."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Self

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

from tsunagu.settings import Settings


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA mmap_size=268435456")  # reads from the page cache without a read() call per page
    cur.close()


def _sqlite_begin_before_savepoint(conn: Connection, _name: str) -> None:
    """The sqlite3 module begins a transaction only before an INSERT/UPDATE/DELETE, so a SAVEPOINT issued
    first would open the transaction itself, and releasing it would commit: begin the real transaction here."""
    dbapi_conn: Any = conn.connection.dbapi_connection
    if not dbapi_conn.in_transaction:
        dbapi_conn.execute("BEGIN")


WRITES = ("INSERT", "UPDATE", "DELETE", "REPLAC")
_PROCESS_GATES: dict[
    str, threading.Lock
] = {}  # one per database file: this process's writers queue here first
GATE_GIVE_UP = 10.0  # seconds; then write anyway and let SQLite's own busy handler wait (never a deadlock)


def _gated_connection(lock_path: str) -> type[sqlite3.Connection]:
    """A sqlite3 connection whose first write in a transaction waits, in the kernel (``flock``), for the other
    processes' writers to commit. SQLite admits one writer at a time anyway; its own busy handler waits by sleeping
    1, 2, 5, 10, … ms, so with two workers most of a contended write was sleep. The gate is released right after
    the commit or rollback; a process that dies releases it with its file descriptors.

    Threads of one process queue first on a process-wide lock (a futex: no CPU while waiting), so only one thread
    per process polls the file lock: with eight writer threads polling, a node spent a third of its CPU there."""
    process_gate = _PROCESS_GATES.setdefault(lock_path, threading.Lock())

    class GatedCursor(sqlite3.Cursor):
        def execute(self, sql: str, parameters: Any = (), /) -> Self:
            gate(self.connection, sql)
            return super().execute(sql, parameters)

        def executemany(self, sql: str, seq: Any, /) -> Self:
            gate(self.connection, sql)
            return super().executemany(sql, seq)

    class GatedConnection(sqlite3.Connection):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.gate_fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            self.gated = False

        def cursor(self, factory: Any = GatedCursor) -> Any:
            return super().cursor(factory)

        def commit(self) -> None:
            try:
                super().commit()
            finally:
                self.release()

        def rollback(self) -> None:
            try:
                super().rollback()
            finally:
                self.release()

        def close(self) -> None:
            self.release()
            os.close(self.gate_fd)
            super().close()

        def release(self) -> None:
            if self.gated:
                self.gated = False
                try:
                    fcntl.flock(self.gate_fd, fcntl.LOCK_UN)
                finally:
                    process_gate.release()

    def gate(conn: Any, sql: str) -> None:
        if conn.gated or sql.lstrip()[:6].upper() not in WRITES:
            return
        deadline = time.monotonic() + GATE_GIVE_UP
        if not process_gate.acquire(timeout=GATE_GIVE_UP):
            return
        pause = 0.00002
        while True:
            try:
                fcntl.flock(conn.gate_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() > deadline:
                    process_gate.release()
                    return
                time.sleep(pause)
                pause = min(pause * 2, 0.0001)  # one poller per process (the others wait on process_gate)
                continue
            conn.gated = True
            return

    return GatedConnection


def make_engine(settings: Settings, **kwargs: Any) -> Engine:
    url = settings.sqlalchemy_url
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        database = make_url(url).database
        if database and database != ":memory:":
            connect_args = kwargs.pop("connect_args", {})
            connect_args.setdefault("factory", _gated_connection(database + ".writer-gate"))
            kwargs["connect_args"] = connect_args
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "savepoint", _sqlite_begin_before_savepoint)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """The edge owns the transaction: commit on success, roll back on any error. Services never commit."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()

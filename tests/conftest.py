"""Shared test infrastructure: settings, a fixed clock, and migrated databases on SQLite and PostgreSQL.

Backends
    ``db_backend`` is parametrised over ``"sqlite"`` and ``"postgresql"``; every test that uses ``settings``,
    ``engine`` or ``session_factory`` runs once per backend. PostgreSQL runs need the environment variable
    ``TSUNAGU_TEST_POSTGRES_URL`` (for instance ``postgresql+psycopg://postgres@127.0.0.1:5432/test``);
    without it they are skipped, unless ``TSUNAGU_REQUIRE_POSTGRES=1`` (CI), where they fail. They carry the
    ``postgres`` marker, so ``-m "not postgres"`` deselects them. To pin a module to one backend::

        pytestmark = pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)

Speed and isolation
    Each backend is migrated once per test session. SQLite: the migrated file is a template copied into each
    test's own temporary directory. PostgreSQL: one freshly created database per session (dropped at the end),
    emptied before each test in one transaction that disables the user triggers of ``registry_events`` (which
    refuse DELETE), deletes every row child-first, re-enables the triggers and restarts the sequences. DDL is
    transactional in PostgreSQL, so the triggers are never seen disabled outside that transaction. (TRUNCATE
    would also pass the row-level triggers, but costs about 150 ms a test against 2 ms for this.)
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from tsunagu.db.engine import make_engine, make_session_factory
from tsunagu.db.migrate import upgrade
from tsunagu.db.models_registry import metadata
from tsunagu.kernel.clock import JST, Clock, fixed_clock
from tsunagu.settings import Settings

# No timing assertions in tests: Hypothesis' per-example deadline (200 ms) is one, and it failed a Merkle-log property
# on a loaded 2-core machine. Speed is measured in bench/, not asserted here.
hypothesis_settings.register_profile("tsunagu", deadline=None)
hypothesis_settings.load_profile("tsunagu")

POSTGRES_URL_ENV = "TSUNAGU_TEST_POSTGRES_URL"
REQUIRE_POSTGRES_ENV = "TSUNAGU_REQUIRE_POSTGRES"
TEST_SECRET = base64.b64encode(bytes(range(32))).decode()
NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=JST)
SQLITE_FILE = "tsunagu.db"
APPEND_ONLY_TABLES = (
    "registry_events",
    "audit_entries",
    "linkage_log_entries",
    "linkage_log_nodes",
    "linkage_log_heads",
    "linkage_log_keys",
    "linkage_exchanges",
    "linkage_agency_log",
    "pay_account_events",
    "linkage_refusals",
    "proc_application_events",
    "health_doses",
    "laws_review_events",
)  # UPDATE and DELETE refused by triggers


def make_settings(data_dir: Path, database_url: str | None = None) -> Settings:
    """Test settings; every field that matters is explicit so ``TSUNAGU_*`` variables in the shell cannot leak in."""
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        secret_key=TEST_SECRET,  # type: ignore[arg-type]  # pydantic turns the str into a SecretStr
        environment="test",
        municipality_code="142051",
        cookie_secure=False,
    )


@dataclass
class _PostgresServer:
    """Databases created on the server for this test session; all dropped at the end."""

    admin: Engine
    base_url: str
    created: dict[str, str] = field(default_factory=dict)  # purpose -> URL
    engines: dict[str, Engine] = field(default_factory=dict)  # purpose -> engine used for cleaning

    def database(self, purpose: str) -> str:
        """URL of this session's migrated database for ``purpose`` (created and migrated on first use)."""
        if purpose not in self.created:
            name = f"tsunagu_test_{os.getpid()}_{secrets.token_hex(4)}_{purpose}"
            with self.admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            url = make_url(self.base_url).set(database=name).render_as_string(hide_password=False)
            self.created[purpose] = url
            upgrade(make_settings(Path("unused"), url))
        return self.created[purpose]

    def clean(self, purpose: str) -> str:
        """Empty every table of the ``purpose`` database and restart its sequences; return its URL."""
        url = self.database(purpose)
        if purpose not in self.engines:
            self.engines[purpose] = create_engine(url)
        with self.engines[purpose].begin() as conn:
            conn.execute(text("SET LOCAL lock_timeout = '10s'"))  # a leaked open transaction fails, not hangs
            for table in APPEND_ONLY_TABLES:
                conn.execute(text(f'ALTER TABLE "{table}" DISABLE TRIGGER USER'))
            for table in reversed(metadata.sorted_tables):
                conn.execute(table.delete())
            for table in APPEND_ONLY_TABLES:
                conn.execute(text(f'ALTER TABLE "{table}" ENABLE TRIGGER USER'))
            sequences = conn.scalars(
                text("SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()")
            ).all()
            for sequence in sequences:
                conn.execute(text(f'ALTER SEQUENCE "{sequence}" RESTART'))
        return url

    def drop_all(self) -> None:
        for engine in self.engines.values():
            engine.dispose()
        with self.admin.connect() as conn:
            for url in self.created.values():
                name = make_url(url).database
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def _postgres_server() -> Iterator[_PostgresServer]:
    url = os.environ.get(POSTGRES_URL_ENV)
    if not url:
        reason = f"PostgreSQL tests need {POSTGRES_URL_ENV} (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)"
        if os.environ.get(REQUIRE_POSTGRES_ENV) == "1":
            pytest.fail(f"{reason}, and {REQUIRE_POSTGRES_ENV}=1 requires them to run.")
        pytest.skip(reason)
    server = _PostgresServer(create_engine(url, isolation_level="AUTOCOMMIT"), url)
    try:
        yield server
    finally:
        server.drop_all()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per session; tests get their own copy."""
    data_dir = tmp_path_factory.mktemp("sqlite-template")
    upgrade(make_settings(data_dir))
    return data_dir / SQLITE_FILE


@pytest.fixture(
    scope="session",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def db_backend(request: pytest.FixtureRequest) -> str:
    """The database backend under test: ``"sqlite"`` or ``"postgresql"``."""
    backend: str = request.param
    if backend == "postgresql":
        request.getfixturevalue("_postgres_server")  # skips, or fails under TSUNAGU_REQUIRE_POSTGRES=1
    return backend


@pytest.fixture
def clean_settings(
    request: pytest.FixtureRequest, db_backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], Settings]:
    """Factory: settings for an empty, migrated database of the current backend, one per ``name`` and test.

    ``clean_settings("main")`` is what ``settings`` returns; ask for another name (``"other"``) for a second,
    independent database, e.g. the target of an export/import round trip.
    """
    made: dict[str, Settings] = {}

    def make(name: str) -> Settings:
        if name not in made:
            data_dir = tmp_path_factory.mktemp(f"data-{name}")
            if db_backend == "sqlite":
                shutil.copyfile(request.getfixturevalue("_sqlite_template"), data_dir / SQLITE_FILE)
                made[name] = make_settings(data_dir)
            else:
                server: _PostgresServer = request.getfixturevalue("_postgres_server")
                made[name] = make_settings(data_dir, server.clean(name))
        return made[name]

    return make


@pytest.fixture
def settings(clean_settings: Callable[[str], Settings]) -> Settings:
    """Settings for this test: a temporary data dir, a fixed secret, and an empty migrated database."""
    return clean_settings("main")


@pytest.fixture
def clock() -> Clock:
    """A clock fixed at 2026-11-26 10:00 JST."""
    return fixed_clock(NOW)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    eng = make_engine(settings)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)

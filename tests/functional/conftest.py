"""Fixtures of the functional tests: one seeded demo municipality per test module, served by the real app.

Names are specific (``web_settings``, ``web_app``, ``client``, ``clerk``, ``counter``, ...) so that they never
clash with fixtures of ``tests/conftest.py``.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import create_engine, func, make_url, select
from sqlalchemy.orm import Session

from tsunagu import demo
from tsunagu.app import create_app
from tsunagu.identity import services as identity
from tsunagu.identity.cards import services as cards
from tsunagu.identity.core.roles import Role, permissions_for
from tsunagu.kernel.access import Principal
from tsunagu.kernel.clock import JST, fixed_clock
from tsunagu.registry.models import Person, PersonEvent
from tsunagu.settings import Settings
from tsunagu.web.security import CSRF_COOKIE

with warnings.catch_warnings():
    # Starlette suggests httpx2 for its test client; httpx is what the dev dependencies pin.
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

AS_OF = dt.date(2026, 11, 26)
NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=JST)
BASE_URL = "https://testserver"
SECRET = base64.b64encode(bytes(range(32))).decode()
CLERK = ("clerk", "demo-clerk-pass")
COUNTER = ("counter", "demo-counter-pass")
STATISTICIAN = ("statistician", "demo-statistician-pass")

LoginFn = Callable[[TestClient, str, str], httpx.Response]
ClientFactory = Callable[..., TestClient]


@contextmanager
def _web_database() -> Iterator[str | None]:
    """SQLite by default; a fresh PostgreSQL database per module when TSUNAGU_TEST_WEB_DATABASE=postgresql
    (CI runs the HTTP tests once on each)."""
    if os.environ.get("TSUNAGU_TEST_WEB_DATABASE") != "postgresql":
        yield None
        return
    base = os.environ.get("TSUNAGU_TEST_POSTGRES_URL")
    if not base:
        pytest.fail("TSUNAGU_TEST_WEB_DATABASE=postgresql needs TSUNAGU_TEST_POSTGRES_URL")
    name = f"tsunagu_web_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="module")
def web_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A fresh data directory with the demo municipality (200 residents) seeded once for the module."""
    data_dir: Path = tmp_path_factory.mktemp("tsunagu-web")
    with _web_database() as url:
        settings = Settings(
            data_dir=data_dir, database_url=url, secret_key=SECRET, environment="test", cookie_secure=True
        )
        result = demo.prepare(settings, residents=200, as_of=AS_OF)
        assert result.seeded_now
        assert result.info["suppressed"] >= 1
        yield settings


@pytest.fixture(scope="module")
def web_app(web_settings: Settings) -> Iterator[FastAPI]:
    app = create_app(web_settings, fixed_clock(NOW))
    with app.state.ctx.uow() as db:
        identity.create_staff(db, STATISTICIAN[0], "統計 次郎 (test)", STATISTICIAN[1], [Role.STATISTICIAN])
    yield app
    app.state.ctx.engine.dispose()


@pytest.fixture
def new_client(web_app: FastAPI) -> Iterator[ClientFactory]:
    """Make independent browsers (each with its own cookie jar); all are closed after the test."""
    made: list[TestClient] = []

    def make(base_url: str = BASE_URL, **headers: str) -> TestClient:
        c = TestClient(web_app, base_url=base_url, headers=headers or None)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


@pytest.fixture
def client(new_client: ClientFactory) -> TestClient:
    """An anonymous browser."""
    return new_client()


def csrf_of(c: TestClient) -> str:
    """The CSRF cookie of a browser, fetching a page first if it has none yet."""
    token = c.cookies.get(CSRF_COOKIE)
    if not token:
        c.get("/staff/login")
        token = c.cookies.get(CSRF_COOKIE)
    assert token, "the app did not set the CSRF cookie"
    return str(token)


@pytest.fixture
def csrf() -> Callable[[TestClient], str]:
    return csrf_of


@pytest.fixture
def login() -> LoginFn:
    """Log a browser in through the form, as a person would: GET the form, then POST it with the token."""

    def do(c: TestClient, username: str, password: str, next_path: str = "/staff") -> httpx.Response:
        assert c.get("/staff/login").status_code == 200
        response: httpx.Response = c.post(
            "/staff/login",
            data={"username": username, "password": password, "next": next_path, "csrf_token": csrf_of(c)},
            follow_redirects=False,
        )
        return response

    return do


def _logged_in(new_client: ClientFactory, login: LoginFn, username: str, password: str) -> TestClient:
    c = new_client()
    response = login(c, username, password)
    assert response.status_code == 303, response.text
    return c


@pytest.fixture
def clerk(new_client: ClientFactory, login: LoginFn) -> TestClient:
    """A browser logged in as the registry clerk (holds registry:suppressed_address:read)."""
    return _logged_in(new_client, login, *CLERK)


@pytest.fixture
def counter(new_client: ClientFactory, login: LoginFn) -> TestClient:
    """A browser logged in as counter staff (reads residents, cannot see suppressed addresses or write)."""
    return _logged_in(new_client, login, *COUNTER)


CitizenLoginFn = Callable[[TestClient, int], str]


@pytest.fixture
def citizen_session(web_app: FastAPI) -> CitizenLoginFn:
    """Give a browser a portal session for a resident directly (as a finished card login would), for tests of
    pages behind ``Access.citizen()``. Returns the raw session id. Tests of the login itself use the login."""
    from tsunagu.identity.citizen import pages as citizen_pages
    from tsunagu.identity.citizen import services as citizen
    from tsunagu.registry import api as registry_api

    ctx = web_app.state.ctx

    def make(c: TestClient, person_id: int, method: str = "card") -> str:
        with ctx.uow() as db:
            name = registry_api.basic_facts(db, person_id).name
            raw = citizen.open_citizen_session(
                db, ctx.clock, citizen_pages.session_policy(ctx.settings), person_id, name, method
            )
        c.cookies.set(citizen_pages.citizen_cookie_name(ctx.settings.cookie_secure), raw)
        return raw

    return make


AUTH_PIN, SIGN_PIN, SURFACE_PIN = "4821", "KAGI2026", "4821"
DESK = Principal(0, "test-desk", "Card desk (test)", permissions_for([Role.CARD_DESK]))


@dataclass(frozen=True)
class Holder:
    person_id: int
    serial: str


@pytest.fixture
def holder(web_app: FastAPI, pick_resident: Callable[..., int]) -> Holder:
    """A resident of 15 or more with a fresh card (own PINs, so other tests' counters do not interfere)."""
    ctx = web_app.state.ctx
    card_ctx = cards.card_context(ctx.settings, ctx.clock, ctx.extras["trust"])
    for _ in range(20):
        person = pick_resident(head=True)
        with ctx.uow() as db:
            if cards.cards_of(db, person):
                continue
            view = cards.issue_card(
                db, card_ctx, DESK, person, cards.CardPins(AUTH_PIN, SURFACE_PIN, SIGN_PIN)
            )
        return Holder(person, view.serial)
    pytest.fail("no resident without a card")


@pytest.fixture
def web_db(web_app: FastAPI) -> Callable[[], AbstractContextManager[Session]]:
    """A unit of work on the app's own database (commits on success)."""
    return web_app.state.ctx.uow  # type: ignore[no-any-return]


@pytest.fixture
def api_token(web_app: FastAPI) -> Callable[[str], dict[str, str]]:
    """Create an API token for a staff user and return the Authorization header that carries it."""

    def make(username: str) -> dict[str, str]:
        with web_app.state.ctx.sessions() as db:
            raw = identity.create_api_token(db, username, "functional test", fixed_clock(NOW))
            db.commit()
        return {"Authorization": f"Bearer {raw}"}

    return make


@pytest.fixture
def event_count(web_app: FastAPI) -> Callable[[], int]:
    """How many movement events the registry holds (read from the database)."""

    def count() -> int:
        with web_app.state.ctx.uow() as db:
            return int(db.scalar(select(func.count()).select_from(PersonEvent)) or 0)

    return count


@pytest.fixture(scope="module")
def _picked_residents() -> set[int]:
    return set()


@pytest.fixture
def pick_resident(web_app: FastAPI, _picked_residents: set[int]) -> Callable[..., int]:
    """The id of a current resident (not under 支援措置) not yet picked in this module; by default one who
    may move alone (not a head of household)."""
    used = _picked_residents

    def pick(*, head: bool = False) -> int:
        with web_app.state.ctx.uow() as db:
            stmt = (
                select(Person.id)
                .where(Person.status == "resident", Person.address_suppressed.is_(False))
                .order_by(Person.id)
            )
            stmt = (
                stmt.where(Person.relationship == "head")
                if head
                else stmt.where(Person.relationship != "head")
            )
            for pid in db.scalars(stmt):
                if pid not in used:
                    used.add(pid)
                    return int(pid)
        pytest.fail("the demo population has no unused resident to pick")

    return pick

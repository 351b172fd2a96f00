"""Per-application context, built once by the app factory and stored on ``app.state.ctx``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request

from tsunagu.db.engine import unit_of_work
from tsunagu.kernel.access import CitizenPrincipal, Principal
from tsunagu.kernel.clock import Clock
from tsunagu.settings import Settings
from tsunagu.web.i18n import Translations

PrincipalResolver = Callable[[Session, Request], Principal | None]
CitizenResolver = Callable[[Session, Request], CitizenPrincipal | None]


def _no_citizens(_db: Session, _request: Request) -> CitizenPrincipal | None:
    return None


@dataclass
class AppContext:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock
    translations: Translations
    resolve_principal: PrincipalResolver
    resolve_citizen: CitizenResolver = _no_citizens
    extras: dict[str, Any] = field(default_factory=dict)

    @contextmanager
    def uow(self) -> Iterator[Session]:
        with unit_of_work(self.sessions) as db:
            yield db


def ctx_of(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx

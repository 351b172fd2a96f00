"""Every route declares who may call it (``dependencies=[guard(Access...)]`` from :mod:`tsunagu.web.access`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Mount

from tsunagu.kernel.access import Access

ALLOWED_PLAIN = {("Mount", "/static")}


def flat_routes(app: FastAPI) -> Iterator[tuple[BaseRoute, Any]]:
    """(original route, effective route) pairs, with included routers flattened.

    Recent FastAPI keeps ``include_router`` results as nested router objects in ``app.routes``; the effective
    route then carries the path with its prefix and the dependencies of the route and of its routers."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI that copies included routes into app.routes
        for route in app.routes:
            yield route, route
        return
    for context in iter_route_contexts(app.routes):
        yield context.original_route, context


def declared_access(effective: Any, original: APIRoute) -> list[Access]:
    dependant = getattr(effective, "dependant", None) or original.dependant
    found = [getattr(d.call, "access", None) for d in dependant.dependencies]
    return [a for a in found if isinstance(a, Access)]


def test_the_app_has_routes(arch_app: FastAPI) -> None:
    paths = {getattr(effective, "path", None) for _, effective in flat_routes(arch_app)}
    assert {"/", "/healthz", "/staff/login", "/api/v1/residents/{person_id}/events"} <= paths


def test_every_route_declares_its_access(arch_app: FastAPI) -> None:
    undeclared: list[str] = []
    twice: list[str] = []
    plain: list[str] = []
    for original, effective in flat_routes(arch_app):
        path = getattr(effective, "path", "?")
        if not isinstance(original, APIRoute):
            if (type(original).__name__, path) not in ALLOWED_PLAIN or not isinstance(original, Mount):
                plain.append(f"{type(original).__name__} {path}")
            continue
        access = declared_access(effective, original)
        where = f"{sorted(effective.methods or [])} {path}"
        if not access:
            undeclared.append(where)
        elif len(access) > 1:
            twice.append(f"{where}: {[a.describe() for a in access]}")
    problems = [
        *(f"not a FastAPI route, so it cannot carry an access guard (only /static may): {p}" for p in plain),
        *(f"no dependencies=[guard(Access.public() | Access.staff(...))]: {u}" for u in undeclared),
        *(f"more than one access declaration (ambiguous): {t}" for t in twice),
    ]
    assert not problems, "Every route must declare who may call it:\n" + "\n".join(problems)


PUBLIC_LOGIN_API = "/api/v1/card-login/"
# The verifier protocol: any shop may ask for a presentation and any wallet may answer it (a holder's signed
# SD-JWT, checked against a one-time nonce); it reads no cookie and changes no one's data.
PUBLIC_PRESENTATION_API = "/api/v1/presentations/"


def test_staff_and_api_write_routes_are_not_public(arch_app: FastAPI) -> None:
    offenders = []
    for original, effective in flat_routes(arch_app):
        if not isinstance(original, APIRoute):
            continue
        path: str = effective.path
        methods = set(effective.methods or ())
        kinds = {a.kind for a in declared_access(effective, original)}
        is_login = path == "/staff/login"
        staff_area = path.startswith("/staff") and not is_login
        # The card-login protocol is a login: anyone may ask for a challenge and answer it with a card.
        login_protocol = path.startswith((PUBLIC_LOGIN_API, PUBLIC_PRESENTATION_API))
        api_write = (
            path.startswith("/api/") and methods & {"POST", "PUT", "PATCH", "DELETE"} and not login_protocol
        )
        if (staff_area or api_write) and "public" in kinds:
            offenders.append(f"{sorted(methods)} {path}")
    assert not offenders, f"public access on staff pages or API writes: {offenders}"

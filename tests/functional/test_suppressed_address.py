"""支援措置 (DV and similar): a suppressed address must never reach staff without
``registry:suppressed_address:read`` — not on any page, in any API response, nor in a CSV export.

The scan collects every response reachable for the people concerned (search by name, kana and 住民票コード,
detail pages of them and of every household member, API search/get/events, statistics, refused forms) and
looks for every form of their address in every body. A positive control runs the same scan as the registry
clerk, who holds the permission, and must find the address: otherwise the scan would prove nothing.
"""

from __future__ import annotations

import csv
import html
import io
import json
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from tsunagu.identity.core.roles import Role, permissions_for
from tsunagu.kernel.access import Permission, Principal
from tsunagu.registry import api as registry_api
from tsunagu.registry.models import Person, PersonEvent
from tsunagu.registry.services.exchange import export_csv
from tsunagu.registry.services.queries import format_address
from tsunagu.registry.services.records import set_support_measure

Fetch = Callable[[str], httpx.Response]


@dataclass(frozen=True)
class Hidden:
    """One person whose address is withheld, with every string that would give the address away."""

    id: int
    resident_code: str
    family_name: str
    given_name: str
    family_name_kana: str
    household_id: int
    status: str
    addresses: tuple[str, ...]  # formatted addresses, current first
    town_blocks: tuple[str, ...]  # town + block, as the history shows them
    parts: tuple[str, ...]  # town, block and building on their own

    @property
    def broad(self) -> set[str]:
        return {*self.addresses, *self.town_blocks}

    @property
    def strict(self) -> set[str]:
        return self.broad | set(self.parts)


@dataclass(frozen=True)
class Population:
    hidden: list[Hidden]
    legit: set[str]  # addresses anyone may see (other residents), to rule out coincidences

    def forbidden(self, person: Hidden, *, strict: bool) -> set[str]:
        """The strings that must not appear; a string that is also part of a visible address of someone
        else (the same block in another household) cannot count as a leak in a page listing that person."""
        needles = person.strict if strict else person.broad
        return {n for n in needles if strict or not any(n in ok for ok in self.legit)}


def _address_strings(lg_code: str, town: str, block: str, building: str) -> tuple[str, str, list[str]]:
    parts = [town, block] + ([building] if building else [])
    return format_address(lg_code, town, block, building), f"{town}{block}", parts


@pytest.fixture(scope="module")
def population(web_app: FastAPI) -> Population:
    """Everyone whose address is withheld, read from the database.

    Besides the seeded 支援措置 households, one more household gets a measure on its head only: the whole
    household must then be withheld (the address is shared)."""
    ctx = web_app.state.ctx
    with ctx.uow() as db:
        households = [
            hid
            for (hid,) in db.execute(
                select(Person.household_id).where(Person.status == "resident").group_by(Person.household_id)
            )
        ]
        for hid in households:
            members = list(db.scalars(select(Person).where(Person.household_id == hid).order_by(Person.id)))
            if len(members) >= 3 and not any(m.address_suppressed for m in members):
                reg = registry_api.registry_context(ctx.settings, ctx.clock)
                set_support_measure(db, reg, members[0].id, "dv", "functional-test", household=False)
                break
        else:
            pytest.fail("the demo population has no household of three to put under a support measure")

    with ctx.uow() as db:
        flagged = set(db.scalars(select(Person.household_id).where(Person.address_suppressed.is_(True))))
        hidden: list[Hidden] = []
        legit: set[str] = set()
        for row in db.scalars(select(Person).order_by(Person.id)):
            formatted, town_block, parts = _address_strings(row.lg_code, row.town, row.block, row.building)
            addresses, town_blocks, all_parts = [formatted], [town_block], list(parts)
            for ev in db.scalars(select(PersonEvent).where(PersonEvent.person_id == row.id)):
                changes = (ev.payload or {}).get("changes", {})
                if "town" in changes:
                    f, tb, p = _address_strings(
                        str(changes.get("lg_code", row.lg_code)),
                        str(changes["town"]),
                        str(changes.get("block", "")),
                        str(changes.get("building", "")),
                    )
                    addresses.append(f)
                    town_blocks.append(tb)
                    all_parts += p
            if row.household_id in flagged:
                hidden.append(
                    Hidden(
                        row.id,
                        row.resident_code,
                        row.family_name,
                        row.given_name,
                        row.family_name_kana,
                        row.household_id,
                        row.status,
                        tuple(dict.fromkeys(addresses)),
                        tuple(dict.fromkeys(town_blocks)),
                        tuple(dict.fromkeys(all_parts)),
                    )
                )
            else:
                legit.update(addresses)
                legit.update(town_blocks)
    assert len({h.household_id for h in hidden}) >= 2, "expected the seeded and the added 支援措置 households"
    pop = Population(hidden, legit)
    for person in hidden:
        assert pop.forbidden(person, strict=False), (
            f"every address string of person {person.id} is also another resident's address; "
            "the scan could not tell a leak from a coincidence"
        )
    return pop


def _body(response: httpx.Response) -> str:
    """The body as a person or a program would read it: entities decoded, JSON unescaped, NFC."""
    text = html.unescape(response.text)
    if "json" in response.headers.get("content-type", ""):
        text += "\n" + json.dumps(response.json(), ensure_ascii=False)
    return unicodedata.normalize("NFC", text)


def _leaks(pop: Population, responses: Iterable[tuple[str, httpx.Response, bool]]) -> list[str]:
    """Every (url, needle) where a forbidden string appears. ``strict`` responses are about the hidden
    household only, so even the town or the block alone must not appear there."""
    found = []
    for url, response, strict in responses:
        body = _body(response)
        for person in pop.hidden:
            for needle in pop.forbidden(person, strict=strict):
                if needle in body:
                    found.append(f"{url}: address of person {person.id} ({needle!r})")
    return found


def assert_no_leaks(pop: Population, responses: list[tuple[str, httpx.Response, bool]]) -> None:
    leaked = _leaks(pop, responses)
    assert not leaked, f"{len(leaked)} suppressed-address leak(s):\n" + "\n".join(leaked[:25])


def _scan(
    pop: Population, fetch: Fetch, *, api_only: bool = False, withheld: bool = True
) -> list[tuple[str, httpx.Response, bool]]:
    """Fetch everything reachable about the hidden people; returns (url, response, strict).

    ``withheld`` is what the viewer should get: ``False`` for the clerk of the positive control."""
    refused = 403 if withheld else 200
    out: list[tuple[str, httpx.Response, bool]] = []

    def get(url: str, *, strict: bool = False, expect: int | None = 200) -> httpx.Response:
        response = fetch(url)
        if expect is not None:
            assert response.status_code == expect, f"{url}: {response.status_code} {response.text[:300]}"
        out.append((url, response, strict))
        return response

    household_ids = {p.household_id for p in pop.hidden}
    for person in pop.hidden:
        queries = {
            person.family_name_kana,
            person.family_name,
            f"{person.family_name} {person.given_name}",
            person.resident_code,
        }
        for q in sorted(queries):
            found = get(f"/api/v1/residents?q={q}&include_former=true").json()["items"]
            me = [p for p in found if p["id"] == person.id]
            assert me, f"API search {q!r} did not find person {person.id}"
            assert me[0]["address"] == (None if withheld else person.addresses[0])
            assert me[0]["address_suppressed"] is True
            get(f"/api/v1/residents?q={q}")
            if not api_only:
                for former in ("", "&former=true"):
                    page = get(f"/staff/residents?q={q}{former}")
                    if former or person.status == "resident":
                        assert f'href="/staff/residents/{person.id}"' in page.text, (
                            f"{q!r} misses {person.id}"
                        )
        got = get(f"/api/v1/residents/{person.id}", strict=True).json()
        assert got["address"] == (None if withheld else person.addresses[0])
        assert got["address_suppressed"] is True
        events = get(f"/api/v1/residents/{person.id}/events", strict=True).json()["items"]
        assert events, f"person {person.id} has no history to scan"
        if person.status == "resident":
            members = get(f"/api/v1/households/{got['household_id']}", strict=True).json()["items"]
            assert person.id in {m["id"] for m in members}
        if not api_only:
            detail = get(f"/staff/residents/{person.id}", strict=True)
            assert ("支援措置: 住所非表示" in detail.text) is withheld
            for form in ("move", "move-out", "death"):
                get(f"/staff/residents/{person.id}/{form}", strict=True, expect=refused)
    assert household_ids
    get("/api/v1/registry/stats")
    if not api_only:
        for url in ("/", "/staff", "/staff/residents", "/staff/registry/stats"):
            get(url)
        get("/staff/registry/export.csv", expect=refused)
    return out


def test_counter_staff_never_see_a_suppressed_address(population: Population, counter: TestClient) -> None:
    responses = _scan(population, counter.get)
    assert len(responses) > 40
    assert_no_leaks(population, responses)


def test_api_token_without_the_permission_never_sees_a_suppressed_address(
    population: Population, client: TestClient, api_token: Callable[[str], dict[str, str]]
) -> None:
    headers = api_token("counter")
    responses = _scan(population, lambda url: client.get(url, headers=headers), api_only=True)
    assert_no_leaks(population, responses)


def test_statistician_token_sees_no_person_at_all(
    population: Population, client: TestClient, api_token: Callable[[str], dict[str, str]]
) -> None:
    headers = api_token("statistician")
    person = population.hidden[0]
    responses = [
        (url, client.get(url, headers=headers), True)
        for url in (
            f"/api/v1/residents/{person.id}",
            f"/api/v1/residents/{person.id}/events",
            f"/api/v1/residents?q={person.resident_code}",
            "/api/v1/households/1",
        )
    ]
    assert {r.status_code for _, r, _ in responses} == {403}
    stats = client.get("/api/v1/registry/stats", headers=headers)
    assert stats.status_code == 200
    assert_no_leaks(population, [*responses, ("/api/v1/registry/stats", stats, False)])


def test_positive_control_the_clerk_does_see_the_address(population: Population, clerk: TestClient) -> None:
    """The clerk holds registry:suppressed_address:read: the same scan must find the addresses."""
    for person in population.hidden:
        current = person.addresses[0]
        detail = clerk.get(f"/staff/residents/{person.id}")
        assert detail.status_code == 200
        assert current in _body(detail)
        assert clerk.get(f"/api/v1/residents/{person.id}").json()["address"] == current
    responses = _scan(population, clerk.get, withheld=False)
    leaked = _leaks(population, responses)
    for person in population.hidden:
        assert any(f"person {person.id} " in line for line in leaked), f"the scan missed person {person.id}"


# --- CSV export ------------------------------------------------------------------------------------------


def _export(web_app: FastAPI, viewer: Principal) -> tuple[str, dict[str, dict[str, str]]]:
    out = io.StringIO()
    with web_app.state.ctx.uow() as db:
        export_csv(db, viewer, out, include_former=True)
    text = out.getvalue()
    rows = {row["resident_code"]: row for row in csv.DictReader(io.StringIO(text))}
    return text, rows


EXPORTER = Principal(
    staff_id=0,
    username="exporter",
    display_name="Export job (test)",
    permissions=frozenset({Permission.REGISTRY_DATA_EXPORT, Permission.REGISTRY_PERSON_READ}),
)


def test_csv_export_withholds_the_address_without_the_permission(
    population: Population, web_app: FastAPI
) -> None:
    assert not EXPORTER.can(Permission.REGISTRY_SUPPRESSED_ADDRESS_READ)
    text, rows = _export(web_app, EXPORTER)
    for person in population.hidden:
        row = rows[person.resident_code]
        assert (row["town"], row["block"], row["building"]) == ("", "", ""), f"person {person.id}: {row}"
        for needle in population.forbidden(person, strict=True):
            assert needle not in ",".join(row.values()), f"person {person.id}: {needle!r} in {row}"
        for needle in population.forbidden(person, strict=False):
            assert needle not in text.replace(",", "")
    assert sum(1 for r in rows.values() if r["town"]) > 150  # everyone else keeps their address


def test_csv_export_positive_control_for_the_clerk(population: Population, web_app: FastAPI) -> None:
    clerk = Principal(1, "clerk", "clerk", permissions_for([Role.REGISTRY_CLERK]))
    _, rows = _export(web_app, clerk)
    with web_app.state.ctx.uow() as db:
        for person in population.hidden:
            stored = db.get_one(Person, person.id)
            row = rows[person.resident_code]
            assert (row["town"], row["block"], row["building"]) == (
                stored.town,
                stored.block,
                stored.building,
            )
            assert f"{row['town']}{row['block']}" in person.town_blocks


def test_export_endpoint_is_refused_to_counter_staff(counter: TestClient, clerk: TestClient) -> None:
    refused = counter.get("/staff/registry/export.csv")
    assert refused.status_code == 403
    allowed = clerk.get("/staff/registry/export.csv")
    assert allowed.status_code == 200
    assert allowed.headers["content-type"].startswith("text/csv")


def test_search_results_show_the_withheld_badge(population: Population, counter: TestClient) -> None:
    for person in population.hidden:
        page = counter.get("/staff/residents", params={"q": person.resident_code, "former": "true"})
        assert f'href="/staff/residents/{person.id}"' in page.text
        assert "支援措置: 住所非表示" in page.text

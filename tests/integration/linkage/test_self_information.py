"""自己情報 on a real database: the portal asks each source agency in a logged SELF-INFO-01 exchange of its own;
withheld items never reach the page, missing ones read 記録なし, one provider down leaves the others shown, proxies'
fetches are marked, and the audit holds counts but no value."""

from __future__ import annotations

import json
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.integration.linkage.conftest import ACCOUNTS, PENSION, TAX, World

from tsunagu.audit.models import AuditEntry
from tsunagu.kernel.access import CitizenPrincipal
from tsunagu.linkage import api as linkage
from tsunagu.linkage.core.messages import Forward
from tsunagu.linkage.exchange.models import Exchange
from tsunagu.linkage.portal import formatting, services
from tsunagu.linkage.portal.services import ItemState

VRS = "VRS"


def _more_copies(world: World, person: int) -> None:
    with world.platform.uow() as db:
        linkage.put_copy(
            db,
            VRS,
            linkage.code_for(db, world.keys, VRS, world.people[person]),
            {"vaccination.records": [{"vaccine": "インフルエンザ", "date": "2025-11-04", "dose": 1}]},
        )
        linkage.put_copy(
            db,
            ACCOUNTS,
            linkage.code_for(db, world.keys, ACCOUNTS, world.people[person]),
            {
                "public_fund_account.bank": {"bank_code": "9901", "branch_code": "101"},
                "public_fund_account.account": {"type": "普通", "number": "1234567"},
                "public_fund_account.holder": "サトウ ハナコ",
            },
        )


def _by_agency(results: list[services.SourceResult]) -> dict[str, services.SourceResult]:
    return {r.agency: r for r in results}


def _states(result: services.SourceResult) -> dict[str, ItemState]:
    return {i.code: i.state for i in result.items}


def test_each_source_is_one_logged_self_information_exchange(world: World) -> None:
    _more_copies(world, 0)
    results = services.fetch_self_information(world.platform, world.keys, world.people[0], by_proxy=False)
    found = _by_agency(results)
    assert [r.agency for r in results] == [s.agency for s in services.SOURCES]
    assert all(r.ok for r in results)
    tax = found[TAX]
    assert _states(tax) == {
        "local_tax.income": ItemState.SHOWN,
        "local_tax.deductions": ItemState.SHOWN,
        "local_tax.assessment": ItemState.NOT_HELD,
    }
    assert tax.items[0].value == 3_200_000
    assert formatting.show("local_tax.income", tax.items[0].value, "ja").text == "3,200,000円"
    pension = found[PENSION]
    assert _states(pension)["pension.status"] == ItemState.WITHHELD
    assert all(i.value is None for i in pension.items if i.state != ItemState.SHOWN)  # the value is dropped
    assert found[VRS].items[0].state == ItemState.SHOWN
    assert found[ACCOUNTS].count(ItemState.SHOWN) == 3
    assert found["NHI-142051"].count(ItemState.NOT_HELD) == 1  # asked and answered: nothing held
    with world.platform.uow() as db:
        rows = db.scalars(select(Exchange).order_by(Exchange.id)).all()
        assert [r.provider for r in rows] == [s.agency for s in services.SOURCES]
        assert {(r.requester, r.business, r.by_proxy) for r in rows} == {
            ("MYNAPORTAL", "SELF-INFO-01", False)
        }
        assert {r.exchange_id for r in rows} == {r.exchange_id for r in results}
        history = linkage.exchanges_about(db, world.keys, world.people[0])
        # the exchange with a withheld item is logged but not shown to the person (番号法 art. 23(2))
        assert {h.provider for h in history} == {s.agency for s in services.SOURCES} - {PENSION}
        assert linkage.exchanges_about(db, world.keys, world.people[1]) == []


def test_a_proxys_fetch_is_recorded_as_by_proxy_and_audited_without_values(world: World) -> None:
    results = services.fetch_self_information(world.platform, world.keys, world.people[1], by_proxy=True)
    proxy = CitizenPrincipal(
        world.people[2], "保護者", "card", "acr", 0, "session-hash", world.people[1], "佐藤 花子1"
    )
    with world.platform.uow() as db:
        services.record_fetch(db, proxy, results)
    with world.platform.uow() as db:
        assert set(db.scalars(select(Exchange.by_proxy))) == {True}
        entries = db.scalars(
            select(AuditEntry).where(AuditEntry.action == "linkage:self_information:fetch")
        ).all()
        assert len(entries) == len(services.SOURCES)
        assert {e.subject for e in entries} == {f"person:{world.people[1]}"}
        text = json.dumps([e.detail for e in entries], ensure_ascii=False)
        assert "3200001" not in text  # counts, never a value
        assert f"person:{world.people[1]}" in text  # on_behalf_of
        tax = next(e for e in entries if "LG-142051-TAX" in json.dumps(e.detail))
        assert "shown" in json.dumps(tax.detail)


def test_a_provider_that_is_down_shows_as_that_sources_error_and_the_others_still_show(world: World) -> None:
    working = world.platform.hub.transport

    class PensionDown:
        def ask(self, db: Session, provider: str, forward: Forward, signed: Callable[[], str]) -> str:
            if provider == PENSION:
                raise linkage.ProviderUnavailable("connection refused")
            return working.ask(db, provider, forward, signed)

    world.platform.hub.transport = PensionDown()
    try:
        results = services.fetch_self_information(world.platform, world.keys, world.people[2], by_proxy=False)
    finally:
        world.platform.hub.transport = working
    found = _by_agency(results)
    assert found[PENSION].error == "provider-unavailable"
    assert found[PENSION].items == ()
    assert "応答がありませんでした" in services.error_message("provider-unavailable", "ja")
    assert all(r.ok for r in results if r.agency != PENSION)
    assert found[TAX].items[0].value == 3_200_002
    with world.platform.uow() as db:
        assert PENSION not in set(db.scalars(select(Exchange.provider)))

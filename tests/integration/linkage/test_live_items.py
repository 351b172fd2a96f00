"""Live items on a real database: the portal asks 藤沢市 (LG-142051) under PROC-PREFILL-01 and the municipality
answers resident.basic and resident.household from its registry; someone who moved out, or lives in another
municipality, is not held there; the exchange is in the person's やりとり履歴; a copy row still wins."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from tests.integration.conftest import move_in, person
from tests.integration.linkage.conftest import CITY, PORTAL, World

from tsunagu.kernel.clock import Clock
from tsunagu.linkage import api as linkage
from tsunagu.linkage.exchange.live import LiveItems, municipality_of
from tsunagu.linkage.exchange.models import Exchange
from tsunagu.registry import api as registry
from tsunagu.settings import Settings

BUSINESS = "PROC-PREFILL-01"
LIVE = ("resident.basic", "resident.household")
CHIYODA = "LG-131016"


def _ask(world: World, agency: str, person: int, items: tuple[str, ...] = LIVE) -> linkage.Result:
    with world.platform.uow() as db:
        portal_code = linkage.code_for(db, world.keys, PORTAL, world.people[person])
    request = linkage.new_request(PORTAL, agency, BUSINESS, items, portal_code, clock=world.platform.clock)
    return linkage.ask(world.platform.uow, world.platform.ring, world.platform.local_hub(), request)


def test_the_municipality_answers_from_its_registry(world: World, ctx: registry.RegistryContext) -> None:
    with world.platform.uow() as db:
        hid = registry.basic_facts(db, world.people[0]).household_id
        child = move_in(
            db,
            ctx,
            person("佐藤", "一郎", "サトウ", "イチロウ", dt.date(2015, 3, 3)),
            registry.Placement(hid, registry.Relationship.CHILD),
            on=dt.date(2021, 4, 1),
        )
        gone = move_in(
            db,
            ctx,
            person("佐藤", "次郎", "サトウ", "ジロウ"),
            registry.Placement(hid, registry.Relationship.CHILD),
        )
        registry.record_move_out(db, ctx, gone, "131016", dt.date(2026, 11, 1), registry.Filing("clerk"))
    result = _ask(world, CITY, 0)
    assert result.not_held == ()
    basic = result.items["resident.basic"].value
    assert basic == {
        "family_name": "佐藤",
        "given_name": "花子0",
        "family_name_kana": "サトウ",
        "given_name_kana": "ハナコ",
        "birth_date": "1985-05-05",
        "sex": "female",
        "relationship": "head",
        "is_head": True,
        "address": {
            "lg_code": "142051",
            "municipality": "藤沢市",
            "town": "本町",
            "block": "1番3号",
            "building": "",
            "text": "神奈川県藤沢市本町1番3号",
        },
    }
    members = result.items["resident.household"].value["members"]
    assert [(m["ref"], m["given_name"], m["relationship"]) for m in members] == [
        ("1", "花子0", "head"),
        ("2", "一郎", "child"),
    ]  # the one who moved out is no longer a member
    with world.platform.uow() as db:
        facts = [f for f in registry.household_facts(db, hid) if f.status == "resident"]
        assert [f.person_id for f in facts] == [world.people[0], child]  # refs follow household_facts
        history = linkage.exchanges_about(db, world.keys, world.people[0])
        row = db.scalars(select(Exchange).where(Exchange.exchange_id == result.exchange_id)).one()
    assert (history[0].exchange_id, history[0].business, history[0].provider) == (
        result.exchange_id,
        BUSINESS,
        CITY,
    )
    assert history[0].items == LIVE
    assert (row.requester, row.provider) == (PORTAL, CITY)


def test_someone_who_moved_out_or_lives_elsewhere_is_not_held(
    world: World, ctx: registry.RegistryContext, settings: Settings, clock: Clock
) -> None:
    with world.platform.uow() as db:
        registry.record_move_out(
            db, ctx, world.people[1], "131016", dt.date(2026, 11, 10), registry.Filing("origin-clerk")
        )
    for agency in (CITY, CHIYODA):
        assert _ask(world, agency, 1).not_held == LIVE  # moved out of 藤沢市, not yet in 千代田区
    assert _ask(world, CHIYODA, 2).not_held == LIVE  # a resident of 藤沢市, not of 千代田区
    destination = registry.registry_context(settings, clock, municipality_code="131016")
    with world.platform.uow() as db:
        registry.record_move_in_existing(
            db,
            destination,
            [world.people[1]],
            registry.check_address("131016", "丸の内一丁目", "1-2-3"),
            dt.date(2026, 11, 20),
            registry.Filing("destination-clerk"),
            from_lg_code="142051",
        )
    assert _ask(world, CITY, 1).not_held == LIVE
    moved = _ask(world, CHIYODA, 1)
    assert moved.not_held == ()
    address = moved.items["resident.basic"].value["address"]
    assert (address["municipality"], address["text"]) == ("千代田区", "東京都千代田区丸の内一丁目1-2-3")


def test_a_copy_row_wins_and_other_items_are_untouched(world: World) -> None:
    with world.platform.uow() as db:
        linkage.put_copy(db, CITY, world.city_codes[0], {"resident.household": {"members": []}})
    result = _ask(world, CITY, 0)
    assert result.items["resident.household"].value == {"members": []}
    assert result.items["resident.basic"].value["given_name"] == "花子0"


def test_only_municipalities_have_live_items(world: World) -> None:
    assert municipality_of("LG-142051") == "142051"
    assert municipality_of("LG-142051-TAX") is None
    assert municipality_of("LG-999999") is None  # not a listed agency
    assert municipality_of("JPS") is None
    with world.platform.uow() as db:
        live = LiveItems(world.keys)
        assert live.answer(db, "JPS", "anything", LIVE) == {}
        assert live.answer(db, CITY, "no-such-code", LIVE) == {}
        assert live.answer(db, CITY, world.city_codes[0], ("resident.registered_on",)) == {}

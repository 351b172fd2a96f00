"""The demo's synthetic copies: the households of card holders are ready for pre-filled applications (NHI for every
member), other residents keep the sparser synthetic copies. Public-fund accounts come from the account registry
(payments), never from made-up copies."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from tests.integration.conftest import move_in, person
from tests.integration.linkage.conftest import World

from tsunagu.linkage import api as linkage
from tsunagu.linkage.exchange.models import Copy
from tsunagu.linkage.portal.demo import NHI, PENSION, seed_demo_copies
from tsunagu.registry import api as registry

ACCOUNTS = "DA-KOKIN"
READY = {(NHI, "nhi.eligibility")}


def _items(world: World, person_id: int) -> set[tuple[str, str]]:
    held: set[tuple[str, str]] = set()
    with world.platform.uow() as db:
        for agency in (NHI, ACCOUNTS, PENSION):
            code = linkage.code_for(db, world.keys, agency, person_id)
            held |= {
                (agency, i)
                for i in db.scalars(select(Copy.item).where(Copy.agency == agency, Copy.code == code))
            }
    return held


def _family(world: World, ctx: registry.RegistryContext, n: int) -> tuple[int, int]:
    """A parent of 41 and a child of 10 (no copies yet)."""
    with world.platform.uow() as db:
        parent = move_in(db, ctx, person("鈴木", f"親{n}", "スズキ", "オヤ", dt.date(1985, 5, 5)))
        hid = registry.basic_facts(db, parent).household_id
        child = move_in(
            db,
            ctx,
            person("鈴木", f"子{n}", "スズキ", "コ", dt.date(2016, 1, 1)),
            registry.Placement(hid, registry.Relationship.CHILD),
        )
    return parent, child


def test_card_holders_households_get_the_prefill_items(world: World, ctx: registry.RegistryContext) -> None:
    (holder, ready_child), (other, other_child) = _family(world, ctx, 1), _family(world, ctx, 2)
    with world.platform.uow() as db:
        stored = seed_demo_copies(
            db, world.keys, [holder, other, other_child], world.platform.clock, card_holders=[holder]
        )
    assert stored > 0
    assert _items(world, ready_child) >= READY  # added although not listed in person_ids
    assert _items(world, holder) >= READY
    assert (PENSION, "pension.insured_status") in _items(world, holder)  # 41: insured, as anyone
    assert (PENSION, "pension.insured_status") not in _items(world, ready_child)  # none under 20
    assert not READY & _items(world, other_child)  # a child outside: no NHI record
    assert not {i for a, i in _items(world, holder) if a == ACCOUNTS}  # no made-up public-fund account

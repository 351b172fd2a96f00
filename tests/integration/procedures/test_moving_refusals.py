"""The moving one-stop refuses bad input before writing anything: outside the moving window, a mover who is not
of the household, an unsigned filing, a town the destination does not have, a head leaving part of the household
behind, and a second filing while one is open. Submitting the same application twice is idempotent."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tsunagu.kernel.errors import Conflict, InvalidInput
from tsunagu.procedures.services import applications as apps
from tsunagu.procedures.services import filing, signatures

from .conftest import TODAY, Env, Household, citizen, moving_form, refused


@pytest.fixture
def home(env: Env) -> Household:
    return env.household(nhi=True)


def _submit(
    env: Env, who: int, app_id: int, form: dict[str, Any], signed: signatures.Signed | None = None
) -> Any:
    return lambda db: filing.submit(db, env.pctx, citizen(who), app_id, form, signed=signed)


@pytest.mark.parametrize("days", [-11, 31])
def test_outside_the_moving_window(env: Env, home: Household, days: int) -> None:
    draft = env.draft(home.head, "tenshutsu")
    form = moving_form(["1", "2", "3"], move_date=TODAY + dt.timedelta(days=days))
    error = refused(env, apps.FormInvalid, _submit(env, home.head, draft, form))
    assert error.field == "move_date"  # type: ignore[attr-defined]
    refused(env, InvalidInput, lambda db: filing.preview(db, env.pctx, citizen(home.head), draft, form))
    assert env.application(draft).state == "draft"


@pytest.mark.parametrize("days", [-10, 30])
def test_the_window_edges_are_accepted(env: Env, home: Household, days: int) -> None:
    draft = env.draft(home.head, "tenshutsu")
    app = env.submit(
        home.head, draft, moving_form(["1", "2", "3"], move_date=TODAY + dt.timedelta(days=days))
    )
    assert app.state == "submitted"
    assert app.bundle_id is not None


def test_a_mover_not_of_the_household(env: Env, home: Household) -> None:
    draft = env.draft(home.head, "tenshutsu")
    error = refused(env, apps.FormInvalid, _submit(env, home.head, draft, moving_form(["1", "2", "3", "4"])))
    assert error.field == "movers"  # type: ignore[attr-defined]


def test_the_head_cannot_leave_part_of_the_household_behind(env: Env, home: Household) -> None:
    draft = env.draft(home.head, "tenshutsu")
    refused(env, InvalidInput, _submit(env, home.head, draft, moving_form(["1", "3"])), match="head")


def test_no_signature(env: Env, home: Household) -> None:
    draft = env.draft(home.head, "tenshutsu")
    refused(env, apps.SignatureRequired, _submit(env, home.head, draft, moving_form(["1", "2", "3"])))


def test_a_signature_over_other_values(env: Env, home: Household) -> None:
    draft = env.draft(home.head, "tenshutsu")
    signed = env.sign(home.head, draft, moving_form(["1", "2", "3"]))
    other = moving_form(["1", "2", "3"], block="9-9")
    refused(env, InvalidInput, _submit(env, home.head, draft, other, signed))


def test_a_town_the_destination_does_not_have(env: Env, home: Household) -> None:
    draft = env.draft(home.head, "tenshutsu")
    form = moving_form(["1", "2", "3"], town="本町")  # a town of 藤沢市, not of 千代田区
    error = refused(env, apps.FormInvalid, _submit(env, home.head, draft, form))
    assert error.field == "destination_town"  # type: ignore[attr-defined]


def test_filing_twice(env: Env, home: Household) -> None:
    draft = env.draft(home.head, "tenshutsu")
    form = moving_form(["1", "2", "3"])
    first = env.submit(home.head, draft, form)
    before = env.counts()
    with env.uow() as db:
        again = filing.submit(db, env.pctx, citizen(home.head), draft, form)  # a double click: no signature
    assert (again.id, again.receipt_number, again.bundle_id) == (
        first.id,
        first.receipt_number,
        first.bundle_id,
    )
    assert env.counts() == before

    second = env.draft(home.head, "tenshutsu")
    before = env.counts()
    refused(env, Conflict, lambda db: filing.preview(db, env.pctx, citizen(home.head), second, form))
    refused(env, Conflict, _submit(env, home.head, second, form))
    assert env.counts() == before
    assert env.application(second).state == "draft"

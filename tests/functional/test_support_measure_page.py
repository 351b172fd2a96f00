"""Setting a 支援措置 from the staff pages: only the registry clerk may, and it takes effect at once."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tsunagu.registry.models import Person, SupportMeasure


def _unprotected_single(web_db: Callable[[], AbstractContextManager[Session]]) -> Person:
    with web_db() as db:
        sizes = dict(
            db.execute(
                select(Person.household_id, func.count())
                .where(Person.status == "resident")
                .group_by(Person.household_id)
            ).all()
        )
        for p in db.scalars(
            select(Person).where(Person.status == "resident", Person.address_suppressed.is_(False))
        ):
            if sizes[p.household_id] == 1:
                return p
    raise AssertionError("the demo population has no single-person household")


def test_the_clerk_sets_a_measure_and_counter_staff_stop_seeing_the_address(
    clerk: TestClient,
    counter: TestClient,
    csrf: Callable[[TestClient], str],
    web_db: Callable[[], AbstractContextManager[Session]],
) -> None:
    person = _unprotected_single(web_db)
    before = counter.get(f"/staff/residents/{person.id}").text
    assert person.block in before  # the control: visible before the measure
    assert counter.get(f"/staff/residents/{person.id}/protect").status_code == 403
    page = clerk.get(f"/staff/residents/{person.id}/protect")
    assert page.status_code == 200
    refused = clerk.post(
        f"/staff/residents/{person.id}/protect", data={"csrf_token": csrf(clerk), "reason": "x"}
    )
    assert refused.status_code == 422
    assert "理由を選んでください" in refused.text
    with web_db() as db:
        assert (
            db.scalar(
                select(func.count()).select_from(SupportMeasure).where(SupportMeasure.person_id == person.id)
            )
            == 0
        )
    done = clerk.post(
        f"/staff/residents/{person.id}/protect",
        data={"csrf_token": csrf(clerk), "reason": "dv", "household": "1"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert "支援措置を設定しました" in clerk.get(done.headers["location"]).text
    assert person.block not in counter.get(f"/staff/residents/{person.id}").text
    assert person.block in clerk.get(f"/staff/residents/{person.id}").text
    again = clerk.post(
        f"/staff/residents/{person.id}/protect",
        data={"csrf_token": csrf(clerk), "reason": "dv"},
        follow_redirects=False,
    )
    assert again.status_code == 303
    with web_db() as db:  # setting it twice adds nothing
        assert (
            db.scalar(
                select(func.count()).select_from(SupportMeasure).where(SupportMeasure.person_id == person.id)
            )
            == 1
        )

"""The vaccine catalogue and the pure validation of a dose entry."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from tsunagu.health.core.vaccines import (
    CATALOGUE,
    COVID_FIRST_DAY,
    MANUFACTURERS,
    Vaccine,
    check_entry,
    vaccine,
)

TODAY = dt.date(2026, 11, 26)


def fields(**changes: object) -> list[str]:
    values: dict[str, object] = {
        "occurrence": dt.date(2021, 6, 1),
        "cvx": "208",
        "manufacturer": "PFR",
        "lot": "FA5829",
        "today": TODAY,
    }
    values.update(changes)
    return [p.field for p in check_entry(**values)]  # type: ignore[arg-type]


def test_the_catalogue_has_unique_cvx_codes_of_known_manufacturers() -> None:
    assert len({v.cvx for v in CATALOGUE}) == len(CATALOGUE)
    assert {v.manufacturer for v in CATALOGUE} <= set(MANUFACTURERS)
    assert all(v.cvx.isdigit() and len(v.cvx) == 3 for v in CATALOGUE)
    assert all(v.name_ja and v.name_en for v in CATALOGUE)


def test_the_real_codes() -> None:
    """CDC CVX and MVX codes of the vaccines used in Japan."""
    expected = {"207": "MOD", "208": "PFR", "210": "ASZ", "211": "NVX", "229": "MOD", "300": "PFR"}
    assert {cvx: vaccine(cvx).manufacturer for cvx in expected} == expected  # type: ignore[union-attr]
    assert vaccine("999") is None


def test_a_good_entry_has_no_problem() -> None:
    assert fields() == []
    assert fields(occurrence=COVID_FIRST_DAY) == []
    assert fields(occurrence=TODAY) == []
    assert fields(lot="X" * 20) == []


def test_each_problem_names_its_field() -> None:
    assert fields(occurrence=TODAY + dt.timedelta(days=1)) == ["occurrence"]
    assert fields(occurrence=COVID_FIRST_DAY - dt.timedelta(days=1)) == ["occurrence"]
    assert fields(cvx="") == ["cvx"]
    assert fields(cvx="207") == ["manufacturer"]  # Moderna's code with Pfizer as maker
    assert fields(lot="") == ["lot"]
    assert fields(lot="X" * 21) == ["lot"]
    assert fields(lot="ロット") == ["lot"]
    assert fields(cvx="000", lot="", occurrence=dt.date(2030, 1, 1)) == ["occurrence", "cvx", "lot"]


def test_every_problem_is_told_in_both_languages() -> None:
    problems = check_entry(occurrence=dt.date(2020, 1, 1), cvx="1", manufacturer="", lot="", today=TODAY)
    assert problems
    assert all(p.message_ja and p.message_en and p.message_ja != p.message_en for p in problems)


@given(
    st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2040, 1, 1)),
    st.sampled_from(CATALOGUE),
    st.text(alphabet="ABCDEFGHJKLMNPRSTUVWXYZ0123456789", min_size=1, max_size=20),
)
def test_the_date_decides_for_a_catalogued_vaccine(occurrence: dt.date, v: Vaccine, lot: str) -> None:
    got = fields(occurrence=occurrence, cvx=v.cvx, manufacturer=v.manufacturer, lot=lot)
    assert got == ([] if COVID_FIRST_DAY <= occurrence <= TODAY else ["occurrence"])

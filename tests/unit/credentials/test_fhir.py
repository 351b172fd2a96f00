"""The FHIR bundle checks: the SHC profile rules and the FHIR model validation (fhir.resources) behind them."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsunagu.credentials.core import fhir

PERSON = fhir.Vaccinee(
    family="山田",
    given=("花子",),
    birth_date=date(1980, 4, 1),
    doses=(fhir.Dose(cvx="208", on=date(2021, 6, 1), lot="FA1234", manufacturer="PFR", performer="架空市"),),
    passport=fhir.Passport(number="TZ1234567", nationality="JPN"),
)


def _bundle() -> dict[str, Any]:
    return fhir.immunization_bundle(PERSON)


def test_an_issued_bundle_passes_both_layers() -> None:
    assert fhir.bundle_problems(_bundle(), immunization=True) == []


@pytest.mark.parametrize(
    ("entry", "change", "where"),
    [
        (1, {"lotNumber": 1234}, "lotNumber"),  # a number where FHIR wants a string
        (1, {"occurrenceDateTime": "2021-13-45"}, "occurrenceDateTime"),  # not a date
        (0, {"birthDate": "01/04/1980"}, "birthDate"),
        (1, {"vaccineCodeX": {"coding": []}}, "vaccineCodeX"),  # an element FHIR does not define
        (0, {"gender": 3}, "gender"),
    ],
)
def test_the_fhir_model_refuses_what_the_profile_rules_do_not_look_at(
    entry: int, change: dict[str, Any], where: str
) -> None:
    bundle = copy.deepcopy(_bundle())
    bundle["entry"][entry]["resource"].update(change)
    problems = fhir.bundle_problems(bundle, immunization=True)
    assert any(where in p and "(FHIR model)" in p for p in problems), problems


def test_an_unknown_resource_type_is_named() -> None:
    bundle = copy.deepcopy(_bundle())
    bundle["entry"].append({"fullUrl": "resource:2", "resource": {"resourceType": "Vaccination"}})
    assert any(
        "'Vaccination' is not a FHIR resource type" in p
        for p in fhir.bundle_problems(bundle, immunization=True)
    )


_TEXT = st.one_of(st.text(max_size=12), st.integers(), st.none(), st.just(" "), st.just("x\n"))
_DATES = st.one_of(
    st.sampled_from(
        ["2021-06-01", "2021-02-30", "2021-13-01", "2021", "2021-06", "2021-06-01T10:00:00+09:00"]
    ),
    st.text(max_size=12),
    st.integers(),
)


@settings(max_examples=150)
@given(family=_TEXT, given_name=_TEXT, birth=_DATES, lot=_TEXT, on=_DATES)
def test_checking_values_apart_from_the_shape_gives_the_models_verdict(
    family: Any, given_name: Any, birth: Any, lot: Any, on: Any
) -> None:
    bundle = copy.deepcopy(_bundle())
    patient, imm = bundle["entry"][0]["resource"], bundle["entry"][1]["resource"]
    patient["name"][0]["family"] = family
    patient["name"][0]["given"] = [given_name]
    patient["birthDate"] = birth
    imm["lotNumber"] = lot
    imm["occurrenceDateTime"] = on
    for res in (patient, imm):
        fast = fhir._model_problems(res, "r")
        full = fhir._model_problems(res, "r", exhaustive=True)
        assert bool(fast) == bool(full), (res, fast, full)

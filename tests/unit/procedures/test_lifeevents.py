"""Life-event one-stops: the shipped rules, the moving window, what ``plan`` files for a household."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tsunagu.procedures import sources
from tsunagu.procedures.core.catalogue import CatalogueError
from tsunagu.procedures.core.lifeevents import (
    End,
    LifeEvent,
    Per,
    PersonFacts,
    Planned,
    Rule,
    age_on,
    in_moving_window,
    parse_life_events,
    plan,
)

TODAY = dt.date(2026, 4, 1)
NHI, PENSION = "nhi.eligibility", "pension.status"


def born(age: int, on: dt.date = TODAY) -> dt.date:
    return on.replace(year=on.year - age) - dt.timedelta(days=30)


def keys(planned: Sequence[Planned]) -> set[str]:
    return {p.key for p in planned}


# --- the shipped events ----------------------------------------------------------------------------------------


def test_the_three_events_are_shipped_with_both_languages() -> None:
    events = sources.life_events()
    assert set(events) == {"moving", "birth", "bereavement"}
    for event in events.values():
        for lang in ("ja", "en"):
            assert event.name(lang).strip()
            assert event.help(lang).strip()
    assert events["moving"].name("ja") == "引越し"
    assert events["bereavement"].name("ja") == "おくやみ"


def test_every_rule_names_a_procedure_tagged_with_its_event() -> None:
    catalogue = sources.catalogue()
    for event in sources.life_events().values():
        for rule in event.rules:
            assert event.id in catalogue[rule.procedure].life_events, (event.id, rule.procedure)


def test_primaries() -> None:
    events = sources.life_events()
    moving = {(r.procedure, r.end) for r in events["moving"].rules if r.primary}
    assert moving == {("tenshutsu", End.ORIGIN), ("tennyu-yoyaku", End.DESTINATION)}
    assert [r.procedure for r in events["birth"].rules if r.primary] == ["shussei-todoke"]
    assert not [r for r in events["bereavement"].rules if r.primary]  # 死亡届 itself is filed at the counter


# --- the moving window -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [(-11, False), (-10, True), (-1, True), (0, True), (1, True), (30, True), (31, False)],
)
def test_moving_window_edges(offset: int, accepted: bool) -> None:
    assert in_moving_window(TODAY + dt.timedelta(days=offset), TODAY) is accepted


def test_the_moving_forms_use_the_same_window() -> None:
    catalogue = sources.catalogue()
    for pid in ("tenshutsu", "tennyu-yoyaku"):
        move_date = catalogue[pid].field("move_date")
        assert in_moving_window(TODAY + dt.timedelta(days=move_date.minimum or 0), TODAY), pid
        assert in_moving_window(TODAY + dt.timedelta(days=move_date.maximum or 0), TODAY), pid
        assert not in_moving_window(TODAY + dt.timedelta(days=(move_date.minimum or 0) - 1), TODAY), pid
        assert not in_moving_window(TODAY + dt.timedelta(days=(move_date.maximum or 0) + 1), TODAY), pid


def test_age_on_counts_the_birthday_itself() -> None:
    birthday = dt.date(1961, 4, 1)
    assert age_on(birthday, dt.date(2026, 3, 31)) == 64
    assert age_on(birthday, dt.date(2026, 4, 1)) == 65


# --- moving ---------------------------------------------------------------------------------------------------

HOUSEHOLD = [
    PersonFacts("adult", born(40), mover=True),
    PersonFacts("child", born(5), mover=True),
    PersonFacts("elder", born(70), mover=True),
    PersonFacts("stays", born(42)),
]
MOVING_BASE = {
    "tenshutsu:origin:",
    "tennyu-yoyaku:destination:",
    "jido-teate-shometsu:origin:",
    "jido-teate-nintei:destination:",
    "kodomo-iryohi:destination:child",
    "kaigo-shikaku-soshitsu:origin:elder",
    "kaigo-shikaku-shutoku:destination:elder",
}


def test_moving_without_national_health_insurance() -> None:
    planned = plan(sources.life_events()["moving"], HOUSEHOLD, [PENSION], TODAY)
    assert keys(planned) == MOVING_BASE
    assert {p.procedure for p in planned if p.primary} == {"tenshutsu", "tennyu-yoyaku"}
    assert planned[0].key == "tenshutsu:origin:"  # the primaries first, in the file's order


def test_moving_with_national_health_insurance_files_it_for_each_mover_at_both_ends() -> None:
    planned = plan(sources.life_events()["moving"], HOUSEHOLD, [NHI], TODAY)
    nhi = {f"kokuho-soshitsu:origin:{r}" for r in ("adult", "child", "elder")} | {
        f"kokuho-shutoku:destination:{r}" for r in ("adult", "child", "elder")
    }
    assert keys(planned) == MOVING_BASE | nhi
    assert not [p for p in planned if p.person_ref == "stays"]


def test_moving_without_children_files_no_child_allowance() -> None:
    couple = [PersonFacts("a", born(30), mover=True), PersonFacts("b", born(29), mover=True)]
    planned = plan(sources.life_events()["moving"], couple, [], TODAY)
    assert keys(planned) == {"tenshutsu:origin:", "tennyu-yoyaku:destination:"}


def test_a_child_who_stays_behind_still_counts_for_the_allowance_but_gets_no_medical_card() -> None:
    people = [PersonFacts("parent", born(38), mover=True), PersonFacts("kid", born(10))]
    planned = keys(plan(sources.life_events()["moving"], people, [], TODAY))
    assert "jido-teate-nintei:destination:" in planned
    assert "kodomo-iryohi:destination:kid" not in planned


def test_ages_are_taken_on_the_given_day() -> None:
    turning = PersonFacts("g", dt.date(1961, 4, 1), mover=True)  # 65 on TODAY, 64 the day before
    event = sources.life_events()["moving"]
    assert "kaigo-shikaku-shutoku:destination:g" in keys(plan(event, [turning], [], TODAY))
    assert "kaigo-shikaku-shutoku:destination:g" not in keys(
        plan(event, [turning], [], TODAY - dt.timedelta(1))
    )


# --- birth ----------------------------------------------------------------------------------------------------


def newborn() -> PersonFacts:
    return PersonFacts("baby", TODAY - dt.timedelta(days=3), child=True)


def test_a_first_child_gets_the_allowance_claimed() -> None:
    people = [PersonFacts("mother", born(31)), PersonFacts("father", born(33)), newborn()]
    planned = keys(plan(sources.life_events()["birth"], people, [], TODAY))
    assert {
        "shussei-todoke:current:baby",
        "jido-teate-nintei:current:",
        "kodomo-iryohi:current:baby",
    } <= planned
    assert not any(k.startswith("kokuho-") for k in planned)


def test_a_second_child_changes_the_amount_instead() -> None:
    people = [PersonFacts("mother", born(34)), PersonFacts("older", born(4)), newborn()]
    planned = keys(plan(sources.life_events()["birth"], people, [NHI], TODAY))
    assert planned == {
        "shussei-todoke:current:baby",
        "jido-teate-gakukaitei:current:",
        "kodomo-iryohi:current:baby",
        "kokuho-shutoku:current:baby",
    }


def test_an_adult_older_sibling_does_not_count_as_another_child() -> None:
    people = [PersonFacts("mother", born(44)), PersonFacts("older", born(19)), newborn()]
    assert "jido-teate-nintei:current:" in keys(plan(sources.life_events()["birth"], people, [], TODAY))


def test_a_first_child_gets_no_amount_change() -> None:
    people = [PersonFacts("mother", born(31)), newborn()]
    assert "jido-teate-gakukaitei:current:" not in keys(
        plan(sources.life_events()["birth"], people, [], TODAY)
    )


# --- bereavement ---------------------------------------------------------------------------------------------


def test_bereavement_of_a_pensioner() -> None:
    people = [PersonFacts("late", born(82), deceased=True), PersonFacts("spouse", born(79))]
    planned = plan(sources.life_events()["bereavement"], people, [PENSION], TODAY)
    assert keys(planned) == {"kaigo-shikaku-soshitsu:current:late", "nenkin-shibo:current:late"}
    assert not any(p.primary for p in planned)


def test_bereavement_with_national_health_insurance_and_a_child() -> None:
    people = [
        PersonFacts("late", born(45), deceased=True),
        PersonFacts("spouse", born(43)),
        PersonFacts("k", born(12)),
    ]
    planned = keys(plan(sources.life_events()["bereavement"], people, [NHI, PENSION], TODAY))
    assert planned == {
        "kokuho-soshitsu:current:late",
        "kokuho-sosaihi:current:late",
        "nenkin-shibo:current:late",
        "jido-teate-shometsu:current:",
    }


def test_a_deceased_child_does_not_count_as_a_child_of_the_household() -> None:
    people = [PersonFacts("late", born(9), deceased=True), PersonFacts("parent", born(40))]
    assert "jido-teate-shometsu:current:" not in keys(
        plan(sources.life_events()["bereavement"], people, [], TODAY)
    )


# --- parsing refusals ------------------------------------------------------------------------------------------

EVENT = """
[[event]]
id = "moving"
name_ja = "引越し"
name_en = "Moving"
help_ja = "説明"
help_en = "Help"

[[event.procedures]]
procedure = "tenshutsu"
end = "origin"
"""


def refused(text: str, *fragments: str) -> None:
    with pytest.raises(CatalogueError) as exc:
        parse_life_events(text, "life_events.toml", sources.catalogue())
    message = str(exc.value)
    assert message.startswith("life_events.toml:"), message
    for fragment in fragments:
        assert fragment in message, message


def test_a_minimal_event_parses_with_defaults() -> None:
    events = parse_life_events(EVENT, "life_events.toml", sources.catalogue())
    assert events["moving"].rules == (Rule("tenshutsu", End.ORIGIN, Per.FILING),)


def test_bad_rules_are_refused_naming_the_key() -> None:
    refused(EVENT.replace('"tenshutsu"', '"no-such"'), "event[0].procedures[0].procedure", "no-such")
    refused(EVENT + "colour = 1\n", "event[0].procedures[0].colour", "unknown key")
    refused(EVENT.replace('"origin"', '"elsewhere"'), "event[0].procedures[0]")
    refused(EVENT + 'per = "cousin"\n', "event[0].procedures[0]")
    refused(EVENT + "age_under = -1\n", "age_under")
    refused(EVENT + "age_under = true\n", "age_under")
    refused(EVENT + "holds = 3\n", "holds")
    refused(EVENT + 'primary = "yes"\n', "primary")


def test_bad_events_are_refused() -> None:
    refused(EVENT.replace('name_en = "Moving"\n', ""), "event[0].name_en", "missing")
    refused(EVENT.split("[[event.procedures]]", maxsplit=1)[0], "event[0].procedures")
    refused(EVENT + EVENT, "event[1].id", "already used")
    refused("[[event]\n", "not valid TOML")


# --- properties ---------------------------------------------------------------------------------------------

PEOPLE = st.lists(
    st.builds(
        PersonFacts,
        ref=st.sampled_from(["a", "b", "c", "d", "e"]),
        birth_date=st.dates(min_value=dt.date(1920, 1, 1), max_value=TODAY),
        mover=st.booleans(),
        child=st.booleans(),
        deceased=st.booleans(),
    ),
    max_size=6,
)
HELD = st.sets(st.sampled_from([NHI, PENSION, "public_fund_account.bank", "local_tax.income"]))


@given(st.sampled_from(["moving", "birth", "bereavement"]), PEOPLE, HELD)
def test_plan_never_files_the_same_application_twice(
    event_id: str, people: list[PersonFacts], held: set[str]
) -> None:
    planned = plan(sources.life_events()[event_id], people, held, TODAY)
    assert len({p.key for p in planned}) == len(planned)


@given(
    st.lists(
        st.builds(
            Rule,
            procedure=st.sampled_from(["tenshutsu", "kokuho-shutoku"]),
            end=st.sampled_from(list(End)),
            per=st.sampled_from(list(Per)),
            primary=st.booleans(),
        ),
        min_size=1,
        max_size=8,
    ),
    PEOPLE,
)
def test_plan_deduplicates_even_repeated_rules(rules: list[Rule], people: list[PersonFacts]) -> None:
    event = LifeEvent("x", "x", "x", "x", "x", tuple(rules))
    planned = plan(event, people, [], TODAY)
    assert len({p.key for p in planned}) == len(planned)

"""The history rules of :mod:`tsunagu.registry.core.projection`: each rule of its docstring, then properties."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsunagu.kernel.errors import EventOutOfOrder, InvalidInput
from tsunagu.registry.core.projection import ADDRESS_FIELDS, apply_event, fold
from tsunagu.registry.core.types import Address, Event, EventKind, PersonState, Relationship, Sex, Status

K = EventKind
D0 = dt.date(2020, 4, 1)
START = {
    "family_name": "山田",
    "given_name": "太郎",
    "family_name_kana": "ヤマダ",
    "given_name_kana": "タロウ",
    "birth_date": "1980-04-01",
    "sex": "male",
    "lg_code": "142051",
    "town": "本町",
    "block": "1番2号",
    "building": "",
    "household_id": 1,
    "relationship": "head",
}


def day(n: int) -> dt.date:
    return D0 + dt.timedelta(days=n)


def ev(kind: EventKind, when: int = 0, **changes: object) -> Event:
    if kind in (K.BIRTH, K.MOVE_IN):
        changes = START | changes
    if kind is K.MOVE_WITHIN and not changes:
        changes = {"town": "辻堂", "block": "3番4号"}
    return Event(kind, day(when), changes)


def resident(when: int = 0) -> PersonState:
    return apply_event(None, ev(K.MOVE_IN, when))


# --- 出生 / 転入 start a record ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [K.BIRTH, K.MOVE_IN])
def test_birth_and_move_in_start_a_record(kind: EventKind) -> None:
    state = apply_event(None, ev(kind, 3))
    assert state == PersonState(
        family_name="山田",
        given_name="太郎",
        family_name_kana="ヤマダ",
        given_name_kana="タロウ",
        birth_date=dt.date(1980, 4, 1),
        sex=Sex.MALE,
        address=Address("142051", "本町", "1番2号", ""),
        household_id=1,
        relationship=Relationship.HEAD,
        status=Status.RESIDENT,
        registered_on=day(3),
        left_on=None,
        last_event_on=day(3),
    )


def test_a_start_event_must_carry_every_attribute() -> None:
    changes = dict(START)
    del changes["birth_date"], changes["town"]
    with pytest.raises(InvalidInput, match="birth_date, town"):
        apply_event(None, Event(K.BIRTH, D0, changes))


@pytest.mark.parametrize(
    "status_events", [[], [K.MOVE_OUT], [K.DEATH]], ids=["resident", "moved-out", "deceased"]
)
def test_a_birth_only_starts_a_record(status_events: list[EventKind]) -> None:
    state = fold([ev(K.BIRTH, 0), *(ev(k, 1) for k in status_events)])
    with pytest.raises(EventOutOfOrder, match="birth"):
        apply_event(state, ev(K.BIRTH, 2))


def test_a_move_in_reopens_the_record_of_someone_who_moved_out() -> None:
    state = fold([ev(K.MOVE_IN, 0), ev(K.MOVE_OUT, 10)])
    assert (state.status, state.left_on) == (Status.MOVED_OUT, day(10))  # type: ignore[union-attr]
    back = apply_event(state, ev(K.MOVE_IN, 20, town="鵠沼", household_id=7))
    assert back.status is Status.RESIDENT
    assert back.left_on is None
    assert back.registered_on == day(20)
    assert back.last_event_on == day(20)
    assert (back.address.town, back.household_id) == ("鵠沼", 7)


@pytest.mark.parametrize("closing", [None, K.DEATH], ids=["resident", "deceased"])
def test_a_move_in_needs_someone_who_is_not_resident_here(closing: EventKind | None) -> None:
    state = fold([ev(K.MOVE_IN, 0), *([ev(closing, 1)] if closing else [])])
    with pytest.raises(EventOutOfOrder, match="move-in"):
        apply_event(state, ev(K.MOVE_IN, 2))


# --- 転居, 転出, 死亡 need a current resident ------------------------------------------------------------------


@pytest.mark.parametrize("kind", [K.MOVE_WITHIN, K.MOVE_OUT, K.DEATH, K.CORRECTION])
def test_events_other_than_a_start_need_an_existing_record(kind: EventKind) -> None:
    with pytest.raises(EventOutOfOrder, match="existing record"):
        apply_event(None, ev(kind, 0))


@pytest.mark.parametrize("closing", [K.MOVE_OUT, K.DEATH])
@pytest.mark.parametrize("kind", [K.MOVE_WITHIN, K.MOVE_OUT, K.DEATH])
def test_move_and_death_need_a_current_resident(closing: EventKind, kind: EventKind) -> None:
    state = fold([ev(K.MOVE_IN, 0), ev(closing, 1)])
    with pytest.raises(EventOutOfOrder, match="current resident"):
        apply_event(state, ev(kind, 2))


def test_death_twice_is_refused() -> None:
    dead = fold([ev(K.BIRTH, 0), ev(K.DEATH, 5)])
    assert dead is not None
    assert (dead.status, dead.left_on) == (Status.DECEASED, day(5))
    with pytest.raises(EventOutOfOrder):
        apply_event(dead, ev(K.DEATH, 5))
    with pytest.raises(EventOutOfOrder):
        apply_event(dead, ev(K.DEATH, 6))


@pytest.mark.parametrize(("kind", "status"), [(K.MOVE_OUT, Status.MOVED_OUT), (K.DEATH, Status.DECEASED)])
def test_move_out_and_death_close_the_record(kind: EventKind, status: Status) -> None:
    state = apply_event(resident(0), ev(kind, 9))
    assert (state.status, state.left_on, state.last_event_on) == (status, day(9), day(9))
    assert state.address == resident(0).address  # the last address stays on record


def test_a_move_within_changes_the_address_and_nothing_else() -> None:
    before = resident(0)
    after = apply_event(before, ev(K.MOVE_WITHIN, 4, town="辻堂", block="3番4号", building="ハイツ 201"))
    assert after.address == Address("142051", "辻堂", "3番4号", "ハイツ 201")
    assert dataclasses.replace(after, address=before.address, last_event_on=before.last_event_on) == before
    assert after.last_event_on == day(4)


def test_a_move_within_needs_the_new_address() -> None:
    with pytest.raises(InvalidInput, match="new address"):
        apply_event(resident(0), Event(K.MOVE_WITHIN, day(1), {"household_id": 2}))


# --- effective dates never go backwards ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", [K.MOVE_WITHIN, K.MOVE_OUT, K.DEATH, K.CORRECTION])
def test_an_event_dated_before_the_last_one_is_refused(kind: EventKind) -> None:
    state = fold([ev(K.MOVE_IN, 0), ev(K.MOVE_WITHIN, 10)])
    changes = {"given_name": "次郎"} if kind is K.CORRECTION else {}
    with pytest.raises(EventOutOfOrder, match="before the last recorded event"):
        apply_event(state, ev(kind, 9, **changes))
    apply_event(state, ev(kind, 10, **changes))  # the same day is fine


def test_a_move_in_dated_before_the_move_out_is_refused() -> None:
    state = fold([ev(K.MOVE_IN, 0), ev(K.MOVE_OUT, 10)])
    with pytest.raises(EventOutOfOrder, match="before the last recorded event"):
        apply_event(state, ev(K.MOVE_IN, 9))


# --- 職権修正 corrects any record --------------------------------------------------------------------------


@pytest.mark.parametrize("closing", [None, K.MOVE_OUT, K.DEATH], ids=["resident", "moved-out", "deceased"])
def test_a_correction_is_allowed_on_any_record(closing: EventKind | None) -> None:
    state = fold([ev(K.MOVE_IN, 0), *([ev(closing, 1)] if closing else [])])
    assert state is not None
    fixed = apply_event(
        state,
        ev(
            K.CORRECTION,
            2,
            given_name="次郎",
            given_name_kana="ジロウ",
            birth_date="1980-04-02",
            sex="female",
        ),
    )
    assert (fixed.given_name, fixed.given_name_kana) == ("次郎", "ジロウ")
    assert (fixed.birth_date, fixed.sex) == (dt.date(1980, 4, 2), Sex.FEMALE)
    assert (fixed.status, fixed.left_on, fixed.registered_on) == (
        state.status,
        state.left_on,
        state.registered_on,
    )
    assert fixed.last_event_on == day(2)


def test_a_correction_can_change_the_address_and_household_of_a_resident() -> None:
    fixed = apply_event(
        resident(0), ev(K.CORRECTION, 1, block="1番3号", household_id=5, relationship="child")
    )
    assert fixed.address == Address("142051", "本町", "1番3号", "")
    assert (fixed.household_id, fixed.relationship) == (5, Relationship.CHILD)


@pytest.mark.parametrize("field", ADDRESS_FIELDS)
def test_the_address_of_a_deceased_person_cannot_be_corrected(field: str) -> None:
    dead = fold([ev(K.MOVE_IN, 0), ev(K.DEATH, 1)])
    with pytest.raises(EventOutOfOrder, match="deceased"):
        apply_event(dead, ev(K.CORRECTION, 2, **{field: "x"}))


@pytest.mark.parametrize("field", ["status", "registered_on", "left_on", "my_number", "resident_code"])
def test_a_correction_cannot_touch_what_only_events_decide(field: str) -> None:
    with pytest.raises(InvalidInput, match=field):
        apply_event(resident(0), ev(K.CORRECTION, 1, **{field: "x"}))


def test_the_input_state_is_never_modified() -> None:
    state = resident(0)
    copy = dataclasses.replace(state)
    apply_event(state, ev(K.MOVE_WITHIN, 1))
    apply_event(state, ev(K.CORRECTION, 1, family_name="佐藤"))
    assert state == copy


# --- properties -------------------------------------------------------------------------------------------


@st.composite
def histories(draw: st.DrawFn) -> list[Event]:
    """A valid history: a start, then any event the rules allow, on non-decreasing dates."""
    when = draw(st.integers(0, 1000))
    events = [ev(draw(st.sampled_from([K.BIRTH, K.MOVE_IN])), when)]
    status = Status.RESIDENT
    for _ in range(draw(st.integers(0, 12))):
        when += draw(st.integers(0, 400))
        allowed = {
            Status.RESIDENT: [K.MOVE_WITHIN, K.MOVE_OUT, K.DEATH, K.CORRECTION],
            Status.MOVED_OUT: [K.MOVE_IN, K.CORRECTION],
            Status.DECEASED: [K.CORRECTION],
        }[status]
        kind = draw(st.sampled_from(allowed))
        if kind is K.MOVE_WITHIN:
            event = ev(kind, when, town=draw(st.sampled_from(["辻堂", "鵠沼", "片瀬"])), block=f"{when}番")
        elif kind is K.CORRECTION:
            fields = ["given_name", "family_name"] + ([] if status is Status.DECEASED else ["block"])
            event = ev(kind, when, **{draw(st.sampled_from(fields)): f"v{when}"})
        elif kind is K.MOVE_IN:
            event = ev(kind, when, household_id=draw(st.integers(1, 50)))
        else:
            event = ev(kind, when)
        events.append(event)
        status = {K.MOVE_OUT: Status.MOVED_OUT, K.DEATH: Status.DECEASED, K.MOVE_IN: Status.RESIDENT}.get(
            kind, status
        )
    return events


@settings(max_examples=300, deadline=None)
@given(histories())
def test_any_valid_history_folds_and_equals_applying_events_one_by_one(events: list[Event]) -> None:
    state = fold(events)
    assert state is not None
    assert state == functools.reduce(apply_event, events, None)  # type: ignore[arg-type]
    for cut in range(len(events) + 1):  # folding a prefix, then applying the rest, is the same
        partial = fold(events[:cut])
        for event in events[cut:]:
            partial = apply_event(partial, event)
        assert partial == state
    assert state.last_event_on == max(e.effective_date for e in events)
    starts = [e for e in events if e.kind in (K.BIRTH, K.MOVE_IN)]
    assert state.registered_on == starts[-1].effective_date
    closing = {K.MOVE_OUT: Status.MOVED_OUT, K.DEATH: Status.DECEASED, K.MOVE_IN: Status.RESIDENT}
    last_status_event = [e for e in events if e.kind in closing or e.kind is K.BIRTH][-1]
    assert state.status is closing.get(last_status_event.kind, Status.RESIDENT)
    assert (state.left_on is None) == (state.status is Status.RESIDENT)


def _invalid_at(state: PersonState | None, draw: st.DrawFn) -> Event:
    """An event that the rules refuse with EventOutOfOrder right after ``state``."""
    if state is None:
        return ev(draw(st.sampled_from([K.MOVE_WITHIN, K.MOVE_OUT, K.DEATH, K.CORRECTION])), 0)
    last = (state.last_event_on - D0).days  # type: ignore[operator]
    options: list[Event] = [ev(K.BIRTH, last)]
    if last > 0:  # anything dated before the last event
        kind = draw(st.sampled_from(list(EventKind)))
        changes = {"given_name": "x"} if kind is K.CORRECTION else {}
        options.append(ev(kind, draw(st.integers(0, last - 1)), **changes))
    if state.status is not Status.MOVED_OUT:
        options.append(ev(K.MOVE_IN, last))
    if state.status is not Status.RESIDENT:
        options += [ev(K.MOVE_WITHIN, last), ev(K.MOVE_OUT, last), ev(K.DEATH, last)]
    if state.status is Status.DECEASED:
        options.append(ev(K.CORRECTION, last, town="辻堂"))
    return draw(st.sampled_from(options))


@settings(max_examples=300, deadline=None)
@given(histories(), st.data())
def test_an_event_inserted_where_it_does_not_fit_is_refused(events: list[Event], data: st.DataObject) -> None:
    at = data.draw(st.integers(0, len(events)), label="position")
    bad = _invalid_at(fold(events[:at]), data.draw)
    with pytest.raises(EventOutOfOrder):
        fold([*events[:at], bad, *events[at:]])

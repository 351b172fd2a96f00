"""The review workflow's pure rules: which status may follow which, what a decision needs, value limits, and the
Japanese name of a provision address."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tsunagu.laws.core.review import (
    PHASES,
    STATUSES,
    ItemState,
    article_label,
    check_change,
    kanji_number,
    next_statuses,
)

DECIDED = {"phase": 1, "ministry": "デジタル庁", "deadline": dt.date(2027, 3, 31)}
ALLOWED = {("todo", "decided"), ("decided", "done"), ("decided", "todo"), ("done", "decided")}


def state(status: str = "todo", **fields: object) -> ItemState:
    values: dict[str, object] = {"phase": None, "ministry": None, "deadline": None, "notes": ""}
    if status != "todo":
        values.update(DECIDED)
    values.update(fields)
    return ItemState(status, **values)  # type: ignore[arg-type]


@pytest.mark.parametrize(("start", "target"), list(itertools.permutations(STATUSES, 2)))
def test_each_move(start: str, target: str) -> None:
    before = state(start)
    after = state(target, **DECIDED)
    refusal = check_change(before, after, note="理由")
    assert (refusal is None) == ((start, target) in ALLOWED)
    assert (target in next_statuses(start)) == ((start, target) in ALLOWED)
    if refusal is not None:
        assert refusal.code == ("decide-first" if start == "todo" else "bad-transition")
        assert refusal.message_ja
        assert refusal.message_en


def test_staying_put_is_always_a_move_allowed() -> None:
    for status in STATUSES:
        assert check_change(state(status), state(status)) is None


@pytest.mark.parametrize("missing", ["phase", "ministry", "deadline"])
def test_a_decision_needs_each_field(missing: str) -> None:
    fields = {**DECIDED, missing: None}
    refusal = check_change(state(), state("decided", **fields))
    assert refusal is not None
    assert refusal.code == "decision-incomplete"
    assert missing in refusal.message_en
    assert (
        check_change(state("decided"), state("decided", **fields)) is not None
    )  # nor may it be cleared later
    assert check_change(state("done"), state("done", **fields)) is not None
    assert check_change(state(), state("todo", **fields)) is None  # a todo item may hold part of a decision


def test_reopening_needs_a_note() -> None:
    refusal = check_change(state("done"), state("decided"), note="  ")
    assert refusal is not None
    assert refusal.code == "reopen-needs-note"
    assert check_change(state("done"), state("decided"), note="改正待ち") is None
    assert check_change(state("decided"), state("todo")) is None  # reconsidering needs none


@pytest.mark.parametrize(
    ("fields", "note", "code"),
    [
        ({"status": "closed"}, "", "unknown-status"),
        ({"phase": 0}, "", "bad-phase"),
        ({"phase": 4}, "", "bad-phase"),
        ({"ministry": "省" * 101}, "", "ministry-too-long"),
        ({"notes": "あ" * 2001}, "", "notes-too-long"),
        ({}, "あ" * 2001, "note-too-long"),
    ],
)
def test_values_out_of_range(fields: dict[str, object], note: str, code: str) -> None:
    values = {"status": "todo", "phase": None, "ministry": None, "deadline": None, "notes": "", **fields}
    refusal = check_change(state(), ItemState(**values), note)  # type: ignore[arg-type]
    assert refusal is not None
    assert refusal.code == code


def test_limits_are_inclusive() -> None:
    assert check_change(state(), state(ministry="省" * 100, notes="あ" * 2000), "あ" * 2000) is None
    assert all(check_change(state(), state(phase=p)) is None for p in PHASES)


@pytest.mark.parametrize(
    ("n", "kanji"),
    [
        (1, "一"),
        (4, "四"),
        (10, "十"),
        (11, "十一"),
        (24, "二十四"),
        (100, "百"),
        (186, "百八十六"),
        (1305, "千三百五"),
    ],
)
def test_kanji_numbers(n: int, kanji: str) -> None:
    assert kanji_number(n) == kanji


@pytest.mark.parametrize(
    ("address", "label"),
    [
        ("main/a1/p1", "第一条第一項"),
        ("main/a4_2/p1/i3", "第四条の二第一項第三号"),
        ("main/a16_4_2/p2", "第十六条の四の二第二項"),
        ("main/a77/p1/i4_2", "第七十七条第一項第四号の二"),
        ("main/a22_7_2/p2/i1/si1-1", "第二十二条の七の二第二項第一号イ"),
        ("main/a4_2/p1/i3/si1-1/si2-2", "第四条の二第一項第三号イ（2）"),
        ("main/a1/p1/i1/si1-3/si2-1/si3-2", "第一条第一項第一号ハ（1）（ⅱ）"),
        ("main/a55:63/p1", "第五十五条から第六十三条まで第一項"),
        ("suppl[orig]/p1", "附則第一項"),
        (
            "suppl[平成一一年一二月八日法律第一五一号]/a3/p1/i1:25",
            "附則（平成一一年一二月八日法律第一五一号）第三条第一項第一号から第二十五号まで",
        ),
        ("draft/1", "draft/1"),
        ("main/x1", "main/x1"),
    ],
)
def test_article_labels(address: str, label: str) -> None:
    assert article_label(address) == label


@given(st.text(alphabet="main/suppl[]orig apisx-_:0123456789", max_size=40))
def test_article_label_never_fails(address: str) -> None:
    assert isinstance(article_label(address), str)


@given(st.integers(min_value=1, max_value=9999), st.integers(min_value=1, max_value=99))
def test_an_article_and_its_branch_read_in_order(article: int, branch: int) -> None:
    label = article_label(f"main/a{article}_{branch}/p1")
    assert label == f"第{kanji_number(article)}条の{kanji_number(branch)}第一項"

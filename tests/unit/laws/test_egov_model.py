"""Pure parts of the e-Gov law API client: law and revision IDs, and which revision a fetch means."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tsunagu.laws.adapters.egov_model import InvalidLawId, Revision, parse_id, select_revision


def rev(revision_id: str, status: str, enforced: str | None = "") -> Revision:
    date = revision_id.split("_")[1]
    when = f"{date[:4]}-{date[4:6]}-{date[6:]}" if enforced == "" else enforced
    return Revision(
        law_revision_id=revision_id,
        law_id=revision_id.split("_", maxsplit=1)[0],
        law_title="試験法",
        amendment_enforcement_date=dt.date.fromisoformat(when) if when else None,
        amendment_law_id=None,
        amendment_law_num=None,
        current_revision_status=status,
        repeal_status="None",
        updated="2024-06-07T09:15:59+09:00",
    )


HISTORY = [  # newest law_revision_id first, as /law_revisions answers
    rev("405AC0000000047_20260524_504AC0000000048", "UnEnforced"),
    rev("405AC0000000047_20250616_504AC0000000068", "UnEnforced", None),  # 政令で定める日: no date yet
    rev("405AC0000000047_20230703_505AC0000000051", "CurrentEnforced"),
    rev("405AC0000000047_20230606_505AC0000000028", "PreviousEnforced"),
    rev("405AC0000000047_20150801_000000000000000", "PreviousEnforced"),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("405AC0000000088", ("405AC0000000088", None)),
        (" 417m60400000007 ", ("417M60400000007", None)),
        ("321CONSTITUTION", ("321CONSTITUTION", None)),
        (
            "405AC0000000088_20240401_504AC0100000052",
            ("405AC0000000088", "405AC0000000088_20240401_504AC0100000052"),
        ),
        (
            "411AC0000000127_19990813_000000000000000",
            ("411AC0000000127", "411AC0000000127_19990813_000000000000000"),
        ),
    ],
)
def test_law_and_revision_ids(text: str, expected: tuple[str, str | None]) -> None:
    assert parse_id(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "405AC00000000",
        "005AC0000000088",  # no era 0
        "405AC0000000088_2024041_504AC0100000052",
        "405AC0000000088_20240230_504AC0100000052",  # 30 February
        "405AC0000000088_20240401",
        "平成五年法律第八十八号",  # a law number: the API takes it, this command does not
        "405AC0000000088?x=1",
    ],
)
def test_not_law_ids(text: str) -> None:
    with pytest.raises(InvalidLawId) as caught:
        parse_id(text)
    assert caught.value.detail_ja is not None
    assert "法令ID" in caught.value.detail_ja


@given(st.text(max_size=60))
def test_an_accepted_id_is_safe_in_a_url_path_and_a_file_name(text: str) -> None:
    try:
        law_id, revision_id = parse_id(text)
    except InvalidLawId:
        return
    for value in (law_id, revision_id or ""):
        assert value.replace("_", "").isalnum()
        assert value.isascii()


def test_without_asof_the_revision_in_force() -> None:
    chosen = select_revision(HISTORY)
    assert chosen is not None
    assert chosen.law_revision_id == "405AC0000000047_20230703_505AC0000000051"


def test_without_a_current_revision_the_newest_once_in_force() -> None:
    no_current = [r for r in HISTORY if r.current_revision_status != "CurrentEnforced"]
    chosen = select_revision(no_current)
    assert chosen is not None
    assert chosen.law_revision_id == "405AC0000000047_20230606_505AC0000000028"
    repealed = [rev("322AC0000000001_20200401_502AC0000000001", "Repeal")]
    assert select_revision(repealed) == repealed[0]
    assert select_revision([]) is None


@pytest.mark.parametrize(
    ("asof", "expected"),
    [
        ("2015-08-01", "405AC0000000047_20150801_000000000000000"),
        ("2023-07-02", "405AC0000000047_20230606_505AC0000000028"),
        ("2024-01-01", "405AC0000000047_20230703_505AC0000000051"),
        ("2025-06-16", "405AC0000000047_20250616_504AC0000000068"),  # the date in the ID when none is given
        ("2099-12-31", "405AC0000000047_20260524_504AC0000000048"),
        ("2015-07-31", None),
    ],
)
def test_asof_the_newest_enforced_by_then(asof: str, expected: str | None) -> None:
    chosen = select_revision(HISTORY, dt.date.fromisoformat(asof))
    assert (chosen.law_revision_id if chosen else None) == expected

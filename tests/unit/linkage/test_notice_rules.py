"""The pure rules of お知らせ: what a notice may say, where it may link, and which segments exist."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tsunagu.kernel.errors import InvalidIdentifier, InvalidInput
from tsunagu.linkage.notices.rules import MAX_BODY, MAX_TITLE, Audience, NoticeText, Segment, parse_segment

OK = ("件名", "Subject", "本文", "Body")


def test_text_is_trimmed_and_line_endings_normalised() -> None:
    text = NoticeText.of("  件名 ", "Subject", "一行目\r\n二行目\r", "Body", " /my/card ")
    assert (text.title_ja, text.body_ja, text.link) == ("件名", "一行目\n二行目", "/my/card")


@pytest.mark.parametrize(
    ("index", "value", "field"),
    [
        (0, "", "title_ja"),
        (1, "x" * (MAX_TITLE + 1), "title_en"),
        (0, "二行の\n件名", "title_ja"),
        (2, "   \n ", "body_ja"),
        (3, "y" * (MAX_BODY + 1), "body_en"),
        (3, "bell\x07", "body_en"),
    ],
)
def test_bad_text_names_its_field(index: int, value: str, field: str) -> None:
    values = list(OK)
    values[index] = value
    with pytest.raises(InvalidInput) as info:
        NoticeText.of(*values)
    assert info.value.field == field


def test_the_limits_themselves_are_allowed() -> None:
    assert NoticeText.of("x" * MAX_TITLE, "y", "z" * MAX_BODY, "w").body_ja == "z" * MAX_BODY


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(1)",
        "http://example.jp/",
        "//evil.example/",
        "https://",
        "data:text/html,x",
        "/a b",
        "/a\\b",
    ],
)
def test_only_https_or_site_paths_may_be_linked(link: str) -> None:
    with pytest.raises(InvalidInput) as info:
        NoticeText.of(*OK, link)
    assert info.value.field == "link"


@pytest.mark.parametrize("link", ["https://www.city.fujisawa.kanagawa.jp/", "/my/notices", None, "  "])
def test_allowed_links(link: str | None) -> None:
    NoticeText.of(*OK, link)


@given(st.text(max_size=300))
def test_any_accepted_link_is_https_or_on_this_site(link: str) -> None:
    try:
        checked = NoticeText.of(*OK, link).link
    except InvalidInput:
        return
    assert checked is None or checked.startswith(("https://", "/"))
    assert checked is None or not checked.startswith("//")


@given(st.text(max_size=MAX_TITLE + 20))
def test_an_accepted_title_is_one_non_empty_line_within_the_limit(title: str) -> None:
    try:
        checked = NoticeText.of(title, *OK[1:]).title_ja
    except InvalidInput:
        return
    assert 0 < len(checked) <= MAX_TITLE
    assert "\n" not in checked


def test_segments() -> None:
    assert parse_segment("all") == Segment(Audience.ALL)
    assert parse_segment(" ALL ") == Segment(Audience.ALL)
    assert parse_segment("142051") == Segment(Audience.MUNICIPALITY, "142051")
    with pytest.raises(InvalidIdentifier):
        parse_segment("142052")
    with pytest.raises(InvalidIdentifier):
        parse_segment("everyone")

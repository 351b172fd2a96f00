"""Agencies and their data dictionary, as packaged and as parsed."""

from __future__ import annotations

import pytest

from tsunagu.kernel.identifiers import is_valid_my_number
from tsunagu.linkage import sources
from tsunagu.linkage.core.dictionary import AgencyType, CatalogueError, parse_agencies, parse_items


def test_the_seeded_agencies_cover_every_kind_the_issue_names() -> None:
    found = {a.code: a for a in sources.agencies()}
    assert found["LG-142051"].name_ja == "藤沢市"
    assert {a.type for a in found.values()} == set(AgencyType)
    assert sum(a.type == AgencyType.MUNICIPALITY for a in found.values()) >= 2
    assert found["JPS"].name_ja == "日本年金機構"
    assert found["DA-KOKIN"].type == AgencyType.PUBLIC_FUND_REGISTRY


def test_every_agency_type_provides_items_with_both_names() -> None:
    dictionary = sources.dictionary()
    for kind in AgencyType:
        if kind in {AgencyType.PORTAL, AgencyType.HUB}:  # they ask or forward; they hold no copy
            assert not dictionary.provided_by(kind), kind
        else:
            assert dictionary.provided_by(kind), kind
    for item in dictionary.items.values():
        assert item.name_ja
        assert item.name_en
        assert item.code.split(".")[0]


def test_no_data_file_holds_anything_shaped_like_a_my_number() -> None:
    for name in ("agencies.csv", "items.csv", "legal_basis.csv"):
        text = sources.data_text(name)
        digits = "".join(c if c.isdigit() else " " for c in text).split()
        assert not [d for d in digits if len(d) == 12 and is_valid_my_number(d)], name


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("code,type,name_ja,name_en\nlg-1,municipality,a,b\n", "upper-case"),
        ("code,type,name_ja,name_en\nLG-1,municipality,a,b\nLG-1,municipality,c,d\n", "twice"),
        ("code,type,name_ja,name_en\nLG-1,city,a,b\n", "unknown agency type"),
        ("code,type,name_ja,name_en\nLG-1,municipality,,b\n", "name_ja is empty"),
    ],
)
def test_malformed_agencies_are_refused(text: str, message: str) -> None:
    with pytest.raises(CatalogueError, match=message):
        parse_agencies(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("provider_type,item,name_ja,name_en,value_type\npension,Pension,a,b,code\n", "dotted"),
        ("provider_type,item,name_ja,name_en,value_type\npension,pension.a,a,b,blob\n", "value_type"),
        (
            "provider_type,item,name_ja,name_en,value_type\npension,pension.a,a,b,code\npension,pension.a,a,b,code\n",
            "twice",
        ),
    ],
)
def test_malformed_items_are_refused(text: str, message: str) -> None:
    with pytest.raises(CatalogueError, match=message):
        parse_items(text)

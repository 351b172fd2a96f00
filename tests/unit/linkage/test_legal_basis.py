"""The legal-basis table (別表) and its authoriser: deny by default, and say exactly what is missing."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tsunagu.linkage import sources
from tsunagu.linkage.core.dictionary import AgencyType, CatalogueError
from tsunagu.linkage.core.legal_basis import LegalBasisRow, RefusalKind, authorise, parse_table

TABLE = sources.legal_basis()
DICTIONARY = sources.dictionary()
ROWS = TABLE.rows
TYPES = [t.value for t in AgencyType]
ITEMS = sorted(DICTIONARY.items)
BUSINESSES = sorted({r.business for r in ROWS})
HEADER = "business,business_name_ja,business_name_en,requester_type,provider_type,items,statute,verified,note"
ROW = "CHILD-ALLOWANCE-01,児童手当,Child allowance,municipality,municipal_tax,local_tax.income,児童手当法,no,"


def _permitted(requester: str, business: str, provider: str) -> frozenset[str]:
    return frozenset().union(
        *(
            r.items
            for r in ROWS
            if (r.requester_type, r.business, r.provider_type) == (requester, business, provider)
        )
    )


def test_the_packaged_table_has_a_version_an_effective_date_and_the_rows_later_issues_need() -> None:
    assert TABLE.version == "2026.4"
    assert TABLE.effective == dt.date(2024, 6, 1)
    assert len(TABLE.digest) == 64
    pairs = {(r.business, r.provider_type) for r in ROWS}
    assert ("CHILD-ALLOWANCE-01", AgencyType.MUNICIPAL_TAX) in pairs  # income
    assert ("CHILD-ALLOWANCE-01", AgencyType.PUBLIC_FUND_REGISTRY) in pairs  # registered account
    assert ("CHILD-REARING-01", AgencyType.PENSION) in pairs  # pension status
    prefill = {r.provider_type: r.items for r in ROWS if r.business == "PROC-PREFILL-01"}
    assert {r.requester_type for r in ROWS if r.business == "PROC-PREFILL-01"} == {AgencyType.PORTAL}
    assert prefill[AgencyType.MUNICIPALITY] == {"resident.basic", "resident.household"}
    assert set(prefill) == {
        AgencyType.MUNICIPALITY,
        AgencyType.NHI_INSURER,
        AgencyType.PENSION,
        AgencyType.PUBLIC_FUND_REGISTRY,
        AgencyType.MUNICIPAL_TAX,
    }
    assert all(r.statute for r in ROWS)
    assert not any(r.verified for r in ROWS)  # every article number still awaits checking against e-Gov


@given(st.sampled_from(ROWS), st.data())
def test_every_row_permits_any_nonempty_part_of_its_items(row: LegalBasisRow, data: st.DataObject) -> None:
    items = data.draw(st.sets(st.sampled_from(sorted(row.items)), min_size=1))
    decision = authorise(TABLE, row.requester_type, row.business, row.provider_type, items)
    assert decision.allowed, decision.reason
    assert decision.refusal is None
    assert row.statute in decision.statutes


@given(
    st.sampled_from(TYPES),
    st.sampled_from([*BUSINESSES, "UNKNOWN-01", ""]),
    st.sampled_from(TYPES),
    st.sets(st.sampled_from([*ITEMS, "made.up"]), max_size=4),
)
def test_anything_the_table_does_not_list_is_refused(
    requester: str, business: str, provider: str, items: set[str]
) -> None:
    decision = authorise(TABLE, requester, business, provider, items)
    covered = _permitted(requester, business, provider)
    assert decision.allowed == (bool(items) and items <= covered)


@given(
    st.sampled_from(TYPES),
    st.sampled_from([*BUSINESSES, "UNKNOWN-01"]),
    st.sampled_from(TYPES),
    st.sets(st.sampled_from(ITEMS), min_size=1, max_size=4),
)
def test_a_refusal_names_exactly_what_is_missing(
    requester: str, business: str, provider: str, items: set[str]
) -> None:
    decision = authorise(TABLE, requester, business, provider, items)
    rows = [r for r in ROWS if r.business == business]
    if not rows:
        assert (decision.refusal, decision.missing) == (RefusalKind.UNKNOWN_BUSINESS, (business,))
        return
    requesters = {r.requester_type.value for r in rows}
    if requester not in requesters:
        assert decision.refusal == RefusalKind.REQUESTER_NOT_PERMITTED
        assert (decision.missing, set(decision.permitted)) == ((requester,), requesters)
        return
    providers = {r.provider_type.value for r in rows if r.requester_type == requester}
    if provider not in providers:
        assert decision.refusal == RefusalKind.PROVIDER_NOT_PERMITTED
        assert (decision.missing, set(decision.permitted)) == ((provider,), providers)
        return
    uncovered = items - _permitted(requester, business, provider)
    if uncovered:
        assert decision.refusal == RefusalKind.ITEMS_NOT_COVERED
        assert set(decision.missing) == uncovered
        assert all(code in decision.reason for code in uncovered)
    else:
        assert decision.allowed


def test_refusals_in_words() -> None:
    decision = authorise(TABLE, "pension", "CHILD-ALLOWANCE-01", "municipal_tax", ["local_tax.income"])
    assert decision.refusal == RefusalKind.REQUESTER_NOT_PERMITTED
    assert "pension" in decision.reason
    assert "permitted: municipality" in decision.reason
    decision = authorise(
        TABLE, "municipality", "CHILD-ALLOWANCE-01", "vaccination_registry", ["vaccination.records"]
    )
    assert decision.refusal == RefusalKind.PROVIDER_NOT_PERMITTED
    assert "vaccination_registry" in decision.reason
    decision = authorise(TABLE, "municipality", "NO-SUCH", "pension", ["pension.status"])
    assert decision.refusal == RefusalKind.UNKNOWN_BUSINESS
    assert "NO-SUCH" in decision.reason
    assert "NO-SUCH" in decision.reason_ja
    decision = authorise(TABLE, "municipality", "CHILD-ALLOWANCE-01", "municipal_tax", [])
    assert decision.refusal == RefusalKind.NO_ITEMS


def _table(*rows: str, meta: str = "# version: t1\n# effective: 2024-06-01\n") -> str:
    return meta + "\n".join([HEADER, *rows]) + "\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(_table(ROW, meta="# effective: 2024-06-01\n"), "version", id="no-version"),
        pytest.param(_table(ROW, meta="# version: t1\n"), "effective", id="no-date"),
        pytest.param(_table(), "no rows", id="empty"),
        pytest.param(_table(ROW, ROW), "appears twice", id="duplicate-row"),
        pytest.param(_table(ROW.replace("local_tax.income", "local_tax.nope")), "not in the data", id="item"),
        pytest.param(_table(ROW.replace("local_tax.income", "pension.status")), "provided by", id="provider"),
        pytest.param(_table(ROW.replace("municipality", "mayor")), "unknown agency type", id="type"),
        pytest.param(_table(ROW.replace(",no,", ",maybe,")), "verified", id="verified"),
        pytest.param(_table(ROW + ",extra"), "wrong number", id="fields"),
        pytest.param(
            _table(
                ROW,
                ROW.replace("municipal_tax,local_tax.income", "pension,pension.status").replace(
                    "児童手当,", "X,"
                ),
            ),
            "two different names",
            id="names",
        ),
    ],
)
def test_a_malformed_table_is_refused_with_its_reason(text: str, message: str) -> None:
    with pytest.raises(CatalogueError, match=message):
        parse_table(text, DICTIONARY)


def test_the_digest_identifies_the_text() -> None:
    one = parse_table(_table(ROW), DICTIONARY)
    assert parse_table(_table(ROW), DICTIONARY).digest == one.digest
    assert parse_table(_table(ROW.replace("児童手当法", "児童手当法第5条")), DICTIONARY).digest != one.digest

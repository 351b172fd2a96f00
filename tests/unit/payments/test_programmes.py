"""The programme files: the packaged ones parse, and every schema error names the file and the key."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tsunagu.payments.core.programmes import (
    Boundary,
    Kind,
    Payee,
    ProgrammeError,
    Schedule,
    build_programmes,
    parse_programme,
)
from tsunagu.payments.sources import UnknownProgramme, programme, programmes

FLAT = """
id = "test-flat"
name_ja = "テスト給付金"
name_en = "Test benefit"
agency = "LG-142051"
business = "KOKIN-01"
legal_basis_ja = "テスト法"
legal_basis_en = "Test Act"
kind = "flat"
payee = "person"
schedule = "once"
reference_date = 2026-04-27
notice_days = 14

[flat]
amount = 100000

[remitter]
code = "1234567890"
name_kana = "ﾃｽﾄｼ"

[[remitter.banks]]
bank_code = "0138"
branch_code = "401"
deposit_type = "1"
account_number = "1000001"

[transfer]
date = 2026-06-10
"""

CHILD = """
id = "test-child"
name_ja = "児童手当（旧）"
name_en = "Child allowance (before 2024-10)"
agency = "LG-142051"
business = "CHILD-ALLOWANCE-01"
legal_basis_ja = "児童手当法"
legal_basis_en = "Child Allowance Act"
kind = "child_allowance"
payee = "household_head"
schedule = "even_months"
notice_days = 14

[child_allowance]
count_until_age = 18
count_boundary = "school_year"

[[child_allowance.bands]]
until_age = 3
boundary = "birth_month"
monthly = 15000
third_child_monthly = 15000

[[child_allowance.bands]]
until_age = 12
boundary = "school_year"
monthly = 10000
third_child_monthly = 15000

[[child_allowance.bands]]
until_age = 15
boundary = "school_year"
monthly = 10000
third_child_monthly = 10000

[child_allowance.income]
threshold = 6220000
upper_limit = 8580000
reduced_monthly = 5000

[remitter]
code = "1234567890"
name_kana = "ﾃｽﾄｼ"

[[remitter.banks]]
bank_code = "0138"
branch_code = "401"
deposit_type = "1"
account_number = "1000001"

[transfer]
day = 10
"""


def test_the_packaged_programmes_parse_with_their_facts() -> None:
    found = programmes()
    assert {"emergency-2026", "child-allowance"} <= set(found)
    emergency = programme("emergency-2026")
    assert (emergency.kind, emergency.payee, emergency.schedule) == (
        Kind.FLAT,
        Payee.HOUSEHOLD_HEAD,
        Schedule.ONCE,
    )
    assert emergency.flat_amount == 100_000
    assert emergency.business == "KOKIN-01"
    assert [b.bank_code for b in emergency.remitter.banks] == ["0138", "9900"]
    child = programme("child-allowance")
    assert child.children is not None
    assert [(b.until_age, b.monthly, b.third_child_monthly) for b in child.children.bands] == [
        (3, 15000, 30000),
        (18, 10000, 30000),
    ]
    assert child.children.count_until_age == 22
    assert child.children.income is None  # no income limit since 2024-10
    assert any(not f.verified and f.note for f in child.facts)
    with pytest.raises(UnknownProgramme):
        programme("nope")


def test_periods_roll_dates_and_transfer_dates() -> None:
    child = programme("child-allowance")
    assert child.default_period(dt.date(2026, 11, 26)) == "2026-12"
    assert child.default_period(dt.date(2026, 12, 1)) == "2026-12"
    assert child.covered_months("2027-02") == ((2026, 12), (2027, 1))
    assert child.roll_date("2027-02") == dt.date(2027, 1, 31)
    assert child.transfer_date("2027-10") == dt.date(2027, 10, 8)  # the 10th is a Sunday: the Friday before
    for bad in ("2026-11", "once", "2026-13", "26-12"):
        with pytest.raises(ValueError, match="even months"):
            child.check_period(bad)
    emergency = programme("emergency-2026")
    assert emergency.roll_date("once") == dt.date(2026, 11, 1)
    assert emergency.transfer_date("once") == dt.date(2026, 12, 25)
    with pytest.raises(ValueError, match="once"):
        emergency.check_period("2026-12")
    spec = emergency.run_spec()
    assert (spec.programme_id, spec.agency, spec.record_limit) == ("emergency-2026", "LG-142051", 9999)


def test_a_pre_reform_programme_with_an_income_limit_parses() -> None:
    p = parse_programme(CHILD, "programmes/test-child.toml")
    assert p.children is not None
    assert p.children.income is not None
    assert (p.children.income.threshold, p.children.income.upper_limit) == (6_220_000, 8_580_000)
    assert p.children.bands[1].boundary is Boundary.SCHOOL_YEAR
    assert p.children.child_relationships == ("child",)


def _edit(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


ERRORS = [
    (FLAT, 'id = "test-flat"', 'id = "Test"', "id: 'Test' must be lower-case"),
    (FLAT, 'name_ja = "テスト給付金"', "", "name_ja: missing"),
    (FLAT, 'name_en = "Test benefit"', 'name_en = ""', "name_en: must not be empty"),
    (FLAT, 'agency = "LG-142051"', 'agency = "fujisawa"', "agency: 'fujisawa' must be an agency code"),
    (FLAT, 'business = "KOKIN-01"', "business = 1", "business: must be str"),
    (FLAT, 'kind = "flat"', 'kind = "lottery"', "kind: 'lottery' is not one of flat, child_allowance"),
    (FLAT, 'payee = "person"', 'payee = "mayor"', "payee: 'mayor' is not one of person, household_head"),
    (FLAT, 'schedule = "once"', 'schedule = "weekly"', "schedule: 'weekly' is not one of"),
    (FLAT, "notice_days = 14", "notice_days = -1", "notice_days: must be between 0 and 365"),
    (FLAT, "notice_days = 14", "notice_days = true", "notice_days: must be an integer"),
    (FLAT, "reference_date = 2026-04-27", "", "reference_date: a programme paid once names"),
    (
        FLAT,
        "reference_date = 2026-04-27",
        "reference_date = 2026-04-27T10:00:00",
        "reference_date: must be a date",
    ),
    (FLAT, "amount = 100000", "amount = 0", "flat.amount: must be above zero"),
    (FLAT, "amount = 100000", "amount = 10000000000", "flat.amount: must be between 0 and"),
    (FLAT, "[flat]\namount = 100000", "", "flat: a flat programme needs [flat]"),
    (FLAT, 'code = "1234567890"', 'code = "12345"', "remitter.code: '12345' must be 10 digits"),
    (FLAT, 'name_kana = "ﾃｽﾄｼ"', 'name_kana = "テスト市"', "remitter.name_kana: 'テスト市' must be"),
    (FLAT, 'bank_code = "0138"', 'bank_code = "138"', "remitter.banks[0].bank_code: '138' must be 4 digits"),
    (FLAT, 'branch_code = "401"', 'branch_code = "4O1"', "remitter.banks[0].branch_code: '4O1' must be 3"),
    (FLAT, 'deposit_type = "1"', 'deposit_type = "4"', "remitter.banks[0].deposit_type: '4' is not one of"),
    (FLAT, 'account_number = "1000001"', 'account_number = "1"', "remitter.banks[0].account_number"),
    (
        FLAT,
        'account_number = "1000001"',
        'account_number = "1000001"\ncolour = "red"',
        "banks[0].colour: unknown",
    ),
    (FLAT, "[[remitter.banks]]", "[[remitter.other]]", "remitter.banks: missing"),
    (FLAT, 'name_kana = "ﾃｽﾄｼ"', 'name_kana = "ﾃｽﾄｼ"\nmotto = "x"', "remitter.motto: unknown key"),
    (FLAT, "date = 2026-06-10", "date = 2026-06-10\nday = 10", "transfer.day: give either day"),
    (FLAT, "date = 2026-06-10", "day = 10", "transfer.date: a programme paid once needs a transfer date"),
    (
        FLAT,
        "date = 2026-06-10",
        'date = 2026-06-10\nroll = "sideways"',
        "transfer.roll: 'sideways' is not one",
    ),
    (FLAT, "[transfer]\ndate = 2026-06-10", "", "transfer: missing"),
    (FLAT, "notice_days = 14", 'notice_days = 14\nflavour = "x"', "flavour: unknown key"),
    (FLAT, "[flat]", '[[facts]]\nkey = "x"\nverified = false\n\n[flat]', "facts[0].note: an unverified fact"),
    (CHILD, "day = 10", "date = 2026-06-10", "transfer.day: a programme paid in even months needs a day"),
    (
        CHILD,
        "notice_days = 14",
        "notice_days = 14\nreference_date = 2026-04-01",
        "reference_date: a programme paid",
    ),
    (CHILD, "day = 10", "day = 31", "transfer.day: must be between 1 and 28"),
    (CHILD, "until_age = 12", "until_age = 2", "child_allowance.bands: must be in increasing age order"),
    (CHILD, "count_until_age = 18", "count_until_age = 12", "count_until_age: must not be below"),
    (CHILD, 'count_boundary = "school_year"', 'count_boundary = "spring"', "count_boundary: 'spring' is not"),
    (
        CHILD,
        "upper_limit = 8580000",
        "upper_limit = 100",
        "child_allowance.income.upper_limit: must be above",
    ),
    (CHILD, "monthly = 15000", "monthly = -5", "child_allowance.bands[0].monthly: must be between"),
    (CHILD, 'kind = "child_allowance"', 'kind = "flat"', "flat: a flat programme needs [flat]"),
    (
        FLAT,
        "[flat]",
        '[child_allowance]\ncount_until_age = 1\ncount_boundary = "school_year"\n'
        '[[child_allowance.bands]]\nuntil_age = 1\nboundary = "birth_month"\nmonthly = 1\n'
        "third_child_monthly = 1\n\n[flat]",
        "child_allowance: only a child_allowance programme",
    ),
    (
        CHILD,
        "[child_allowance]",
        "[child_allowance]\nchild_relationships = []",
        "child_relationships: must be",
    ),
]


@pytest.mark.parametrize(("base", "old", "new", "message"), ERRORS)
def test_every_schema_error_names_the_file_and_the_key(base: str, old: str, new: str, message: str) -> None:
    source = "programmes/test-flat.toml" if base is FLAT else "programmes/test-child.toml"
    with pytest.raises(ProgrammeError) as info:
        parse_programme(_edit(base, old, new), source)
    assert str(info.value).startswith(f"{source}: ")
    assert message in str(info.value)


def test_the_file_name_matches_the_id_and_ids_are_unique_and_toml_is_checked() -> None:
    with pytest.raises(ProgrammeError, match=r"other\.toml: id: the file must be named test-flat\.toml"):
        parse_programme(FLAT, "programmes/other.toml")
    with pytest.raises(ProgrammeError, match="b: id 'test-flat' is already used"):
        build_programmes([("a", FLAT), ("b", FLAT)])
    with pytest.raises(ProgrammeError, match=r"x\.toml: not valid TOML"):
        parse_programme("id = ", "x.toml")


KANA = "ｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾅﾆﾇﾈﾉﾊﾋﾌﾍﾎﾏﾐﾑﾒﾓﾔﾕﾖﾗﾘﾙﾚﾛﾜﾝﾞﾟ "


@given(
    amount=st.integers(1, 9_999_999_999),
    notice=st.integers(0, 365),
    payee=st.sampled_from(list(Payee)),
    limit=st.integers(1, 999_999),
    code=st.from_regex(r"\A[0-9]{10}\Z"),
    name=st.text(alphabet=KANA, min_size=1, max_size=40).filter(str.strip),
    banks=st.lists(st.from_regex(r"\A[0-9]{4}\Z"), min_size=1, max_size=4, unique=True),
    on=st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31)),
    lead=st.integers(0, 20),
)
def test_a_written_flat_programme_parses_back_to_the_same_values(
    amount: int,
    notice: int,
    payee: Payee,
    limit: int,
    code: str,
    name: str,
    banks: list[str],
    on: dt.date,
    lead: int,
) -> None:
    text = _edit(FLAT, "amount = 100000", f"amount = {amount}")
    text = _edit(text, "notice_days = 14", f"notice_days = {notice}\nrecord_limit = {limit}")
    text = _edit(text, 'payee = "person"', f'payee = "{payee.value}"')
    text = _edit(text, 'code = "1234567890"', f'code = "{code}"')
    text = _edit(text, 'name_kana = "ﾃｽﾄｼ"', f'name_kana = "{name}"')
    text = _edit(text, "reference_date = 2026-04-27", f"reference_date = {on.isoformat()}")
    text = _edit(text, "date = 2026-06-10", f"date = {on.isoformat()}\nlead_days = {lead}")
    one = text[text.index("[[remitter.banks]]") : text.index("[transfer]")]
    text = text.replace(one, "".join(one.replace('"0138"', f'"{b}"') for b in banks))
    p = parse_programme(text, "programmes/test-flat.toml")
    assert (p.flat_amount, p.notice_days, p.payee, p.record_limit) == (amount, notice, payee, limit)
    assert (p.remitter.code, p.remitter.name_kana, p.reference_date) == (code, name, on)
    assert [b.bank_code for b in p.remitter.banks] == banks
    assert (p.transfer.date, p.transfer.lead_days) == (on, lead)
    assert p.run_spec().record_limit == limit

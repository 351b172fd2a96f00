"""Validity and numbering rules of the My Number card (pure)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tsunagu.identity.core.card_rules import (
    SERIAL_ALPHABET,
    SERIAL_BODY,
    CardExpired,
    CardRevoked,
    CardStatus,
    CardSuspended,
    age_on,
    card_expiry,
    card_serial,
    certificate_expiry,
    check_usable,
    effective_status,
    format_card_serial,
    may_hold_signature_certificate,
    normalize_card_serial,
    nth_birthday_after,
)
from tsunagu.kernel.errors import InvalidInput
from tsunagu.pki.api import five_birthdays_after

births = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2026, 12, 31))
issues = st.dates(min_value=dt.date(2016, 1, 1), max_value=dt.date(2060, 12, 31))
bodies = st.text(alphabet=SERIAL_ALPHABET, min_size=SERIAL_BODY, max_size=SERIAL_BODY)


@given(birth=births, issue=issues)
def test_card_runs_ten_birthdays_for_adults_and_five_for_minors(birth: dt.date, issue: dt.date) -> None:
    if birth > issue:
        return
    expiry = card_expiry(issue, birth)
    assert expiry > issue
    assert (expiry.month, expiry.day) in {(birth.month, birth.day), (2, 28)}
    years = 10 if age_on(birth, issue) >= 18 else 5
    assert expiry == nth_birthday_after(issue, birth, years)
    assert years - 1 <= expiry.year - issue.year <= years


@given(birth=births, issue=issues)
def test_certificates_run_five_birthdays_never_beyond_the_card(birth: dt.date, issue: dt.date) -> None:
    if birth > issue:
        return
    card = card_expiry(issue, birth)
    cert = certificate_expiry(issue, birth, card)
    assert cert <= card
    assert (
        cert == nth_birthday_after(issue, birth, 5) == five_birthdays_after(issue, birth)
    )  # agrees with pki


@given(birth=births, issue=issues, n=st.integers(1, 12))
def test_nth_birthday_is_strictly_after_issue_and_n_minus_one_before(
    birth: dt.date, issue: dt.date, n: int
) -> None:
    day = nth_birthday_after(issue, birth, n)
    assert day > issue
    if n > 1:
        assert nth_birthday_after(issue, birth, n - 1) < day


def test_examples() -> None:
    assert card_expiry(dt.date(2026, 11, 26), dt.date(1980, 4, 1)) == dt.date(2036, 4, 1)
    assert card_expiry(dt.date(2026, 4, 1), dt.date(1980, 4, 1)) == dt.date(
        2036, 4, 1
    )  # a birthday: the next
    assert card_expiry(dt.date(2026, 11, 26), dt.date(2010, 1, 1)) == dt.date(2031, 1, 1)  # 16: five
    assert card_expiry(dt.date(2026, 11, 26), dt.date(2008, 11, 26)) == dt.date(2036, 11, 26)  # 18 today: ten
    assert card_expiry(dt.date(2026, 11, 26), dt.date(2008, 11, 27)) == dt.date(
        2030, 11, 27
    )  # 17: tomorrow is the 1st
    assert nth_birthday_after(dt.date(2026, 3, 1), dt.date(2000, 2, 29), 2) == dt.date(2028, 2, 29)
    assert nth_birthday_after(dt.date(2026, 3, 1), dt.date(2000, 2, 29), 1) == dt.date(2027, 2, 28)
    with pytest.raises(ValueError, match="at least 1"):
        nth_birthday_after(dt.date(2026, 3, 1), dt.date(2000, 1, 1), 0)


@given(birth=births, on=issues)
def test_signature_certificate_from_15(birth: dt.date, on: dt.date) -> None:
    assert may_hold_signature_certificate(birth, on) is (age_on(birth, on) >= 15)


def test_fifteenth_birthday_boundary() -> None:
    assert not may_hold_signature_certificate(dt.date(2011, 11, 27), dt.date(2026, 11, 26))
    assert may_hold_signature_certificate(dt.date(2011, 11, 26), dt.date(2026, 11, 26))


@given(body=bodies)
def test_card_serial_round_trips_through_its_display_form(body: str) -> None:
    serial = card_serial(body)
    assert len(serial) == 12
    assert serial[:SERIAL_BODY] == body
    shown = format_card_serial(serial)
    assert shown.count("-") == 2
    assert normalize_card_serial(shown) == serial
    assert normalize_card_serial(f" {shown.lower()} ") == serial


@given(body=bodies, position=st.integers(0, 11), replacement=st.sampled_from(SERIAL_ALPHABET))
def test_every_single_character_error_is_caught(body: str, position: int, replacement: str) -> None:
    serial = card_serial(body)
    if serial[position] == replacement:
        return
    typo = serial[:position] + replacement + serial[position + 1 :]
    with pytest.raises(InvalidInput):
        normalize_card_serial(typo)


@pytest.mark.parametrize("text", ["", "ABCD-EFGH-JKM", "ABCD-EFGH-JKMNP", "ABCD-EFGH-JKMI", "ABCD EFGH JKMO"])
def test_malformed_card_numbers(text: str) -> None:
    with pytest.raises(InvalidInput, match="12 characters"):
        normalize_card_serial(text)


def test_card_serial_refuses_a_bad_body() -> None:
    with pytest.raises(ValueError, match="11 characters"):
        card_serial("ABC")


@given(
    status=st.sampled_from(list(CardStatus)),
    expires=issues,
    today=issues,
)
def test_effective_status_and_usability(status: CardStatus, expires: dt.date, today: dt.date) -> None:
    current = effective_status(status, expires, today)
    if status in (CardStatus.ACTIVE, CardStatus.SUSPENDED) and today > expires:
        assert current is CardStatus.EXPIRED
    else:
        assert current is status
    errors = {
        CardStatus.SUSPENDED: CardSuspended,
        CardStatus.REVOKED: CardRevoked,
        CardStatus.EXPIRED: CardExpired,
    }
    if current is CardStatus.ACTIVE:
        check_usable(status, expires, today)
    else:
        with pytest.raises(errors[current]):
            check_usable(status, expires, today)

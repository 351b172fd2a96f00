"""PIN rules of the My Number card (pure): formats, messages and the consecutive-failure counter."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tsunagu.identity.core.pins import (
    POLICIES,
    InvalidPin,
    PinCounter,
    PinLocked,
    PinSlot,
    WrongPin,
    check_new_pin,
    is_valid_pin,
    refusal,
)

FOUR_DIGIT = (PinSlot.AUTHENTICATION, PinSlot.SURFACE)
UPPER_DIGITS = string.ascii_uppercase + string.digits


@pytest.mark.parametrize("slot", FOUR_DIGIT)
@given(pin=st.text(alphabet=string.digits, min_size=4, max_size=4))
def test_any_four_digits_are_a_valid_short_pin(slot: PinSlot, pin: str) -> None:
    assert check_new_pin(slot, pin) == pin


@pytest.mark.parametrize("slot", FOUR_DIGIT)
@given(pin=st.text(max_size=8))
def test_a_short_pin_is_exactly_four_ascii_digits(slot: PinSlot, pin: str) -> None:
    expected = len(pin) == 4 and all(c in string.digits for c in pin)
    assert is_valid_pin(slot, pin) is expected


@given(pin=st.text(alphabet=UPPER_DIGITS, min_size=6, max_size=16))
def test_signature_pin_needs_a_letter_and_a_digit(pin: str) -> None:
    expected = any(c.isalpha() for c in pin) and any(c.isdigit() for c in pin)
    assert is_valid_pin(PinSlot.SIGNATURE, pin) is expected


@given(pin=st.text(max_size=20))
def test_signature_pin_is_6_to_16_of_uppercase_and_digits(pin: str) -> None:
    if is_valid_pin(PinSlot.SIGNATURE, pin):
        assert 6 <= len(pin) <= 16
        assert all(c in UPPER_DIGITS for c in pin)


@pytest.mark.parametrize("pin", ["ABC12", "abc123", "ABCDEF", "123456", "ABC-123", "A1" * 9, "ＡＢＣ１２３"])
def test_invalid_signature_pins(pin: str) -> None:
    with pytest.raises(InvalidPin) as info:
        check_new_pin(PinSlot.SIGNATURE, pin)
    assert info.value.code == "invalid-pin"
    assert pin not in info.value.detail
    assert pin not in (info.value.detail_ja or "")
    assert "6 to 16" in info.value.detail
    assert "6〜16" in (info.value.detail_ja or "")
    assert info.value.field == "signature_pin"


@pytest.mark.parametrize("pin", ["ABC123", "A00000", "1234567890ABCDEF", "Z9" * 3])
def test_valid_signature_pins(pin: str) -> None:
    assert check_new_pin(PinSlot.SIGNATURE, pin) == pin


def test_lockout_limits_are_those_of_the_card() -> None:
    assert POLICIES[PinSlot.AUTHENTICATION].max_failures == 3
    assert POLICIES[PinSlot.SURFACE].max_failures == 3
    assert POLICIES[PinSlot.SIGNATURE].max_failures == 5


@given(slot=st.sampled_from(list(PinSlot)), outcomes=st.lists(st.booleans(), max_size=30))
def test_counter_locks_after_consecutive_failures_and_stays_locked(
    slot: PinSlot, outcomes: list[bool]
) -> None:
    """Model: a run of ``max`` consecutive failures locks for good; a success before that resets the run."""
    limit = POLICIES[slot].max_failures
    counter = PinCounter()
    run = 0
    locked = False
    for ok in outcomes:
        if counter.locked:
            assert counter.remaining(slot) == 0
            with pytest.raises(ValueError, match="locked"):
                counter.after_success()
            continue
        if ok:
            counter, run = counter.after_success(), 0
        else:
            before = counter
            counter, run = counter.after_failure(slot), run + 1
            error = refusal(slot, before, counter)
            if run >= limit:
                assert isinstance(error, PinLocked)
            else:
                assert isinstance(error, WrongPin)
                assert error.remaining == limit - run
        locked = locked or run >= limit
        assert counter.locked is locked
        assert counter.failures == run
    assert 0 <= counter.remaining(slot) <= limit


def test_messages_are_specific_in_both_languages() -> None:
    wrong = WrongPin(PinSlot.AUTHENTICATION, 2)
    assert (wrong.code, wrong.status, wrong.remaining) == ("wrong-pin", 401, 2)
    assert "2" in wrong.detail
    assert "あと2回" in wrong.message("ja")
    locked = PinLocked(PinSlot.SIGNATURE, just_locked=True)
    assert (locked.code, locked.status) == ("pin-locked", 403)
    assert "municipal counter" in locked.message("en")
    assert "窓口" in locked.message("ja")
    assert "署名用電子証明書" in locked.message("ja")

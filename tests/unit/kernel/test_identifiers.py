"""My Number (個人番号), Corporate Number (法人番号) and 全国地方公共団体コード: vectors and properties."""

from __future__ import annotations

import csv
import io
import math
import random
import re
from collections.abc import Callable
from importlib.resources import files

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tsunagu.kernel.errors import InvalidIdentifier
from tsunagu.kernel.identifiers import (
    IdentifierKind,
    check_corporate_number,
    check_lg_code,
    check_my_number,
    corporate_number_check_digit,
    format_corporate_number,
    format_my_number,
    generate_corporate_number,
    generate_my_number,
    is_prefecture_code,
    is_valid_corporate_number,
    is_valid_lg_code,
    is_valid_my_number,
    lg_code_check_digit,
    lg_code_from_5,
    mask_corporate_number,
    mask_my_number,
    my_number_check_digit,
    my_number_from_serial,
    normalize_digits,
    prefecture_code,
)

# --- reference vectors (from the project's reference) ----------------------------------------------------

MY_NUMBER_VALID = ["621498320257", "123456789018", "000000000000", "111111111118"]
MY_NUMBER_INVALID = ["621498320258"]

CORPORATE_VALID = [
    "1180301018771",
    "5010001008846",
    "7010401045660",
    "4000012090001",
    "8120001059652",
    "7000012050002",
    "5835678256246",
]
# Known-bad third-party fixtures: they look like Corporate Numbers but their check digit is wrong.
CORPORATE_INVALID = ["6010001008846", "7010401067252", "7010401060001", "1010001008896"]

LG_CODE_VALID = ["131016", "130001", "140007", "271004", "011002", "016012", "012025"]

# --- independent reference implementations, written straight from the rules ----------------------------


def _my_number_residue(first11: str) -> int:
    weights = [6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2]
    return sum(int(d) * w for d, w in zip(first11, weights, strict=True)) % 11


def _lg_residue(first5: str) -> int:
    d = [int(c) for c in first5]
    return (6 * d[0] + 5 * d[1] + 4 * d[2] + 3 * d[3] + 2 * d[4]) % 11


# --- strategies ------------------------------------------------------------------------------------------

FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
SEPARATORS = [" ", "\u3000", "-", "‐", "－", "ー", "−"]


def _digits(n: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=n, max_size=n)


valid_my_numbers = _digits(11).map(lambda b: f"{b}{my_number_check_digit(b)}")
valid_corporate_numbers = _digits(12).map(lambda b: f"{corporate_number_check_digit(b)}{b}")
valid_lg_codes = _digits(5).map(lambda b: f"{b}{lg_code_check_digit(b)}")


@st.composite
def decorated(draw: st.DrawFn, digits: str) -> str:
    """``digits`` as a person might type it: some digits full-width, separators in between."""
    out: list[str] = []
    for char in digits:
        out.append(draw(st.sampled_from(SEPARATORS)) * draw(st.integers(0, 2)))
        out.append(char.translate(FULLWIDTH) if draw(st.booleans()) else char)
    out.append(draw(st.sampled_from(SEPARATORS)) * draw(st.integers(0, 2)))
    return "".join(out)


def _rng(seed: int) -> random.Random:
    return random.Random(seed)  # noqa: S311 - reproducible synthetic test data, never secrets


def _replace(text: str, index: int, digit: int) -> str:
    return f"{text[:index]}{digit}{text[index + 1 :]}"


def _exception_text(exc: InvalidIdentifier) -> str:
    return " ".join([str(exc), repr(exc), repr(exc.args), repr(exc.extra), exc.detail, exc.kind, exc.reason])


# --- IdentifierKind --------------------------------------------------------------------------------------


def test_identifier_kind_values() -> None:
    assert IdentifierKind.MY_NUMBER.value == "my_number"
    assert IdentifierKind.CORPORATE_NUMBER.value == "corporate_number"
    assert IdentifierKind.LG_CODE.value == "lg_code"
    assert IdentifierKind("lg_code") is IdentifierKind.LG_CODE
    assert f"{IdentifierKind.MY_NUMBER}" == "my_number"
    assert len(IdentifierKind) == 3


# --- normalize_digits ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("621498320257", "621498320257"),
        ("6214 9832 0257", "621498320257"),
        ("6214-9832-0257", "621498320257"),
        ("６２１４９８３２０２５７", "621498320257"),
        ("６２１４－９８３２－０２５７", "621498320257"),
        ("６２１４ー９８３２ー０２５７", "621498320257"),
        ("６２１４\u3000９８３２\u3000０２５７", "621498320257"),
        ("6214‐9832−0257", "621498320257"),
        ("  5-8356-7825-6246  ", "5835678256246"),
        ("", ""),
        (" - ", ""),
    ],
)
def test_normalize_digits_examples(text: str, expected: str) -> None:
    assert normalize_digits(text) == expected


@pytest.mark.parametrize("text", ["12a4", "1234.5", "１２Ａ４", "12/34", "١٢٣", "12²", "+81", "12_34"])
def test_normalize_digits_rejects_non_digits(text: str) -> None:
    with pytest.raises(InvalidIdentifier) as excinfo:
        normalize_digits(text)
    assert excinfo.value.kind == "digits"
    assert "not a digit" in excinfo.value.reason


def test_normalize_digits_reports_position_not_character() -> None:
    with pytest.raises(InvalidIdentifier) as excinfo:
        normalize_digits("123x56")
    assert "position 4" in excinfo.value.reason
    assert "x" not in str(excinfo.value)


def test_non_str_input_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="str"):
        normalize_digits(621498320257)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="str"):
        check_my_number(621498320257)  # type: ignore[arg-type]


@given(st.text(alphabet="0123456789", max_size=20).flatmap(lambda d: st.tuples(st.just(d), decorated(d))))
def test_normalize_digits_strips_decoration(case: tuple[str, str]) -> None:
    digits, text = case
    assert normalize_digits(text) == digits


@given(st.text(alphabet="0123456789", max_size=20))
def test_normalize_digits_is_identity_on_ascii_digits(digits: str) -> None:
    assert normalize_digits(digits) == digits
    assert normalize_digits(normalize_digits(digits)) == digits


# --- My Number (個人番号) ----------------------------------------------------------------------------------


@pytest.mark.parametrize("number", MY_NUMBER_VALID)
def test_my_number_valid_vectors(number: str) -> None:
    assert is_valid_my_number(number)
    assert check_my_number(number) == number
    assert my_number_check_digit(number[:11]) == int(number[11])


@pytest.mark.parametrize("number", MY_NUMBER_INVALID)
def test_my_number_invalid_vectors(number: str) -> None:
    assert not is_valid_my_number(number)
    with pytest.raises(InvalidIdentifier) as excinfo:
        check_my_number(number)
    assert excinfo.value.kind == IdentifierKind.MY_NUMBER
    assert excinfo.value.reason == "check digit does not match"


@pytest.mark.parametrize(
    ("text", "reason_part"),
    [
        ("62149832025", "must have 12 digits, got 11"),
        ("6214983202570", "must have 12 digits, got 13"),
        ("", "must have 12 digits, got 0"),
        ("6214983202S7", "not a digit"),
        ("621498320258", "check digit does not match"),
    ],
)
def test_check_my_number_reasons(text: str, reason_part: str) -> None:
    with pytest.raises(InvalidIdentifier) as excinfo:
        check_my_number(text)
    assert excinfo.value.kind == "my_number"
    assert reason_part in excinfo.value.reason
    assert str(excinfo.value).startswith("Invalid my number: ")


@pytest.mark.parametrize(
    "first11", ["6214983202", "621498320257", "６２１４９８３２０２５", "6214 983202", "62149832o25"]
)
def test_my_number_check_digit_is_strict(first11: str) -> None:
    with pytest.raises(InvalidIdentifier) as excinfo:
        my_number_check_digit(first11)
    assert excinfo.value.kind == "my_number"
    assert first11 not in str(excinfo.value)


@given(_digits(11))
def test_my_number_computed_check_digit_validates(first11: str) -> None:
    check = my_number_check_digit(first11)
    assert 0 <= check <= 9
    residue = _my_number_residue(first11)
    assert check == (0 if residue <= 1 else 11 - residue)
    assert is_valid_my_number(f"{first11}{check}")
    for other in set(range(10)) - {check}:
        assert not is_valid_my_number(f"{first11}{other}")


@given(valid_my_numbers, st.integers(0, 11), st.integers(1, 9))
def test_my_number_single_digit_change(number: str, index: int, shift: int) -> None:
    """A single changed digit is caught unless it moves the residue between 0 and 1 (both give check 0)."""
    mutated = _replace(number, index, (int(number[index]) + shift) % 10)
    residues = {_my_number_residue(number[:11]), _my_number_residue(mutated[:11])}
    undetectable = index < 11 and residues == {0, 1}
    assert is_valid_my_number(mutated) == undetectable


def test_my_number_documented_blind_spot() -> None:
    # 6*2 = 12 ≡ 1 (mod 11): the residue moves from 0 to 1 and the check digit stays 0.
    assert is_valid_my_number("000000000000")
    assert is_valid_my_number("200000000000")


@given(valid_my_numbers, st.integers(1, 9))
def test_my_number_check_digit_position_always_detected(number: str, shift: int) -> None:
    assert not is_valid_my_number(_replace(number, 11, (int(number[11]) + shift) % 10))


@given(valid_my_numbers.flatmap(lambda n: st.tuples(st.just(n), decorated(n))))
def test_my_number_full_width_and_separators_normalise(case: tuple[str, str]) -> None:
    number, text = case
    assert check_my_number(text) == number
    assert is_valid_my_number(text)


def test_my_number_full_width_example() -> None:
    assert check_my_number("６２１４　９８３２　０２５７") == "621498320257"


def test_format_and_mask_my_number_examples() -> None:
    assert format_my_number("621498320257") == "6214 9832 0257"
    assert format_my_number("６２１４-９８３２-０２５７") == "6214 9832 0257"
    assert mask_my_number("621498320257") == "**** **** 0257"
    assert mask_my_number("6214 9832 0257") == "**** **** 0257"


@pytest.mark.parametrize("fn", [format_my_number, mask_my_number])
def test_format_and_mask_my_number_validate(fn: Callable[[str], object]) -> None:
    with pytest.raises(InvalidIdentifier) as excinfo:
        fn("621498320258")
    assert "621498320258" not in str(excinfo.value)


@given(valid_my_numbers)
def test_my_number_format_normalize_round_trip(number: str) -> None:
    formatted = format_my_number(number)
    assert re.fullmatch(r"\d{4} \d{4} \d{4}", formatted)
    assert normalize_digits(formatted) == number
    assert check_my_number(formatted) == number
    assert format_my_number(formatted) == formatted


@given(valid_my_numbers)
def test_mask_my_number_hides_all_but_last_four(number: str) -> None:
    masked = mask_my_number(number)
    assert masked == f"**** **** {number[-4:]}"
    assert number[:8] not in masked
    assert re.sub(r"\D", "", masked) == number[-4:]


@given(st.randoms(use_true_random=False))
def test_generate_my_number_is_valid(rng: random.Random) -> None:
    number = generate_my_number(rng)
    assert re.fullmatch(r"\d{12}", number)
    assert is_valid_my_number(number)


def test_generate_my_number_is_deterministic_per_seed() -> None:
    first = [generate_my_number(_rng(42)) for _ in range(3)]
    assert len(set(first)) == 1
    rng = _rng(7)
    assert len({generate_my_number(rng) for _ in range(200)}) > 190


@given(st.integers(0, 10**11 - 1))
def test_my_number_from_serial_is_valid_and_deterministic(serial: int) -> None:
    number = my_number_from_serial(serial)
    assert re.fullmatch(r"\d{12}", number)
    assert is_valid_my_number(number)
    assert my_number_from_serial(serial) == number


@given(st.integers(0, 10**11 - 1), st.integers(0, 10**11 - 1))
def test_my_number_from_serial_is_injective_on_pairs(a: int, b: int) -> None:
    assume(a != b)
    assert my_number_from_serial(a) != my_number_from_serial(b)


def test_my_number_from_serial_is_injective_on_a_sample() -> None:
    serials = [*range(20_000), *range(10**11 - 1000, 10**11), *(10**k for k in range(5, 11))]
    numbers = {my_number_from_serial(s) for s in serials}
    assert len(numbers) == len(set(serials))


def test_my_number_from_serial_is_an_affine_bijection() -> None:
    """body(s) = (A*s + B) mod 10**11 with gcd(A, 10) = 1 — hence a permutation of all 11-digit bodies."""
    modulus = 10**11
    offset = int(my_number_from_serial(0)[:11])
    multiplier = (int(my_number_from_serial(1)[:11]) - offset) % modulus
    assert math.gcd(multiplier, 10) == 1
    rng = _rng(2024)
    for serial in [2, 3, 99, 10**11 - 1, *(rng.randrange(modulus) for _ in range(500))]:
        assert int(my_number_from_serial(serial)[:11]) == (multiplier * serial + offset) % modulus


@pytest.mark.parametrize("serial", [-1, 10**11, 10**12])
def test_my_number_from_serial_range(serial: int) -> None:
    with pytest.raises(ValueError, match="serial must be in"):
        my_number_from_serial(serial)


def test_my_number_from_serial_rejects_non_int() -> None:
    with pytest.raises(TypeError):
        my_number_from_serial(True)
    with pytest.raises(TypeError):
        my_number_from_serial("1")  # type: ignore[arg-type]


# --- no My Number in any exception ---------------------------------------------------------------------


@given(valid_my_numbers, st.integers(1, 9))
def test_bad_check_digit_message_never_contains_the_number(number: str, shift: int) -> None:
    wrong = _replace(number, 11, (int(number[11]) + shift) % 10)
    for text in [wrong, format_my_number(number)[:-1] + wrong[-1], wrong.translate(FULLWIDTH)]:
        with pytest.raises(InvalidIdentifier) as excinfo:
            check_my_number(text)
        rendered = _exception_text(excinfo.value)
        assert wrong not in rendered
        assert wrong[:11] not in rendered
        assert not re.search(r"\d{4}", rendered), rendered


@given(
    st.text(alphabet="0123456789", min_size=5, max_size=30),
    st.sampled_from(["", "x", "円", "#", "Ａ"]),
    st.sampled_from([check_my_number, is_valid_my_number, format_my_number, mask_my_number]),
)
def test_any_my_number_error_never_echoes_input(digits: str, junk: str, fn: Callable[[str], object]) -> None:
    text = f"{digits[:3]}{junk}{digits[3:]}"
    try:
        fn(text)
    except InvalidIdentifier as exc:
        rendered = _exception_text(exc)
        assert digits not in rendered
        assert digits.translate(FULLWIDTH) not in rendered
        assert not re.search(r"\d{4}", rendered), rendered


def test_invalid_identifier_shape() -> None:
    with pytest.raises(InvalidIdentifier) as excinfo:
        check_my_number("621498320258")
    exc = excinfo.value
    assert exc.kind == "my_number"
    assert exc.reason == "check digit does not match"
    assert exc.code == "invalid-identifier"
    assert exc.status == 422
    assert str(exc) == "Invalid my number: check digit does not match."


# --- Corporate Number (法人番号) ---------------------------------------------------------------------------


@pytest.mark.parametrize("number", CORPORATE_VALID)
def test_corporate_number_valid_vectors(number: str) -> None:
    assert is_valid_corporate_number(number)
    assert check_corporate_number(number) == number
    assert corporate_number_check_digit(number[1:]) == int(number[0])


@pytest.mark.parametrize("number", CORPORATE_INVALID)
def test_corporate_number_known_bad_fixtures(number: str) -> None:
    assert not is_valid_corporate_number(number)
    with pytest.raises(InvalidIdentifier) as excinfo:
        check_corporate_number(number)
    assert excinfo.value.kind == IdentifierKind.CORPORATE_NUMBER
    assert excinfo.value.reason == "check digit does not match"


@pytest.mark.parametrize(
    ("text", "reason_part"),
    [
        ("583567825624", "must have 13 digits, got 12"),
        ("58356782562460", "must have 13 digits, got 14"),
        ("5835678256Z46", "not a digit"),
        ("6835678256246", "check digit does not match"),
    ],
)
def test_check_corporate_number_reasons(text: str, reason_part: str) -> None:
    with pytest.raises(InvalidIdentifier) as excinfo:
        check_corporate_number(text)
    assert excinfo.value.kind == "corporate_number"
    assert reason_part in excinfo.value.reason


@pytest.mark.parametrize("base12", ["83567825624", "8356782562460", "８３５６７８２５６２４６"])
def test_corporate_number_check_digit_is_strict(base12: str) -> None:
    with pytest.raises(InvalidIdentifier):
        corporate_number_check_digit(base12)


@given(_digits(12))
def test_corporate_computed_check_digit_validates(base12: str) -> None:
    check = corporate_number_check_digit(base12)
    total = sum(int(d) * (1 if n % 2 else 2) for n, d in enumerate(reversed(base12), start=1))
    assert check == 9 - total % 9
    assert 1 <= check <= 9  # never 0, so a leading 0 is always invalid
    assert is_valid_corporate_number(f"{check}{base12}")
    assert not is_valid_corporate_number(f"0{base12}")


@given(valid_corporate_numbers, st.integers(0, 12), st.integers(1, 9))
def test_corporate_single_digit_change(number: str, index: int, shift: int) -> None:
    """Every single-digit change is caught except 0 <-> 9 in the base (documented limitation of mod 9)."""
    old = int(number[index])
    new = (old + shift) % 10
    mutated = _replace(number, index, new)
    undetectable = index > 0 and {old, new} == {0, 9}
    assert is_valid_corporate_number(mutated) == undetectable


@pytest.mark.parametrize(
    ("number", "index"),
    [("5010001008846", 1), ("5010001008846", 12 - 9), ("7010401045660", 12), ("4000012090001", 8)],
)
def test_corporate_zero_nine_swap_is_not_detected(number: str, index: int) -> None:
    """Documented limitation: 0 <-> 9 in any base position leaves the check digit unchanged."""
    old = number[index]
    assert old in "09"
    mutated = _replace(number, index, 9 - int(old))
    assert mutated != number
    assert is_valid_corporate_number(number)
    assert is_valid_corporate_number(mutated)


@given(valid_corporate_numbers.flatmap(lambda n: st.tuples(st.just(n), decorated(n))))
def test_corporate_full_width_and_separators_normalise(case: tuple[str, str]) -> None:
    number, text = case
    assert check_corporate_number(text) == number


def test_format_and_mask_corporate_number_examples() -> None:
    assert format_corporate_number("5835678256246") == "5-8356-7825-6246"
    assert format_corporate_number("５８３５６７８２５６２４６") == "5-8356-7825-6246"
    assert mask_corporate_number("5835678256246") == "5-8356-7825-6246"
    with pytest.raises(InvalidIdentifier):
        format_corporate_number("6010001008846")
    with pytest.raises(InvalidIdentifier):
        mask_corporate_number("6010001008846")


@given(valid_corporate_numbers)
def test_corporate_format_normalize_round_trip(number: str) -> None:
    formatted = format_corporate_number(number)
    assert re.fullmatch(r"\d-\d{4}-\d{4}-\d{4}", formatted)
    assert normalize_digits(formatted) == number
    assert check_corporate_number(formatted) == number
    assert mask_corporate_number(number) == formatted


@given(st.randoms(use_true_random=False))
def test_generate_corporate_number_is_valid(rng: random.Random) -> None:
    number = generate_corporate_number(rng)
    assert re.fullmatch(r"\d{13}", number)
    assert is_valid_corporate_number(number)


# --- 全国地方公共団体コード ------------------------------------------------------------------------------


@pytest.mark.parametrize("code", LG_CODE_VALID)
def test_lg_code_valid_vectors(code: str) -> None:
    assert is_valid_lg_code(code)
    assert check_lg_code(code) == code
    assert lg_code_check_digit(code[:5]) == int(code[5])
    assert lg_code_from_5(code[:5]) == code


@pytest.mark.parametrize("code", LG_CODE_VALID)
def test_lg_code_wrong_check_digit_is_rejected(code: str) -> None:
    for other in set("0123456789") - {code[5]}:
        wrong = f"{code[:5]}{other}"
        assert not is_valid_lg_code(wrong)
        with pytest.raises(InvalidIdentifier) as excinfo:
            check_lg_code(wrong)
        assert excinfo.value.kind == IdentifierKind.LG_CODE
        assert excinfo.value.reason == "check digit does not match"


@pytest.mark.parametrize(
    ("code", "prefecture", "is_prefecture"),
    [
        ("131016", "13", False),  # 千代田区
        ("130001", "13", True),  # 東京都
        ("140007", "14", True),  # 神奈川県
        ("271004", "27", False),  # 大阪市
        ("011002", "01", False),  # 札幌市
        ("016012", "01", False),
        ("012025", "01", False),  # 函館市
    ],
)
def test_prefecture_helpers(code: str, prefecture: str, is_prefecture: bool) -> None:
    assert prefecture_code(code) == prefecture
    assert is_prefecture_code(code) is is_prefecture


def test_prefecture_helpers_validate() -> None:
    with pytest.raises(InvalidIdentifier):
        prefecture_code("131017")
    with pytest.raises(InvalidIdentifier):
        is_prefecture_code("13000")


@pytest.mark.parametrize(
    ("first5", "expected"),
    [("13101", "131016"), ("13000", "130001"), ("０１２０２", "012025"), ("27-100", "271004")],
)
def test_lg_code_from_5(first5: str, expected: str) -> None:
    assert lg_code_from_5(first5) == expected


@pytest.mark.parametrize("first5", ["1310", "131016", "1310x"])
def test_lg_code_from_5_rejects_other_lengths(first5: str) -> None:
    with pytest.raises(InvalidIdentifier) as excinfo:
        lg_code_from_5(first5)
    assert excinfo.value.kind == "lg_code"


def test_check_lg_code_rejects_five_digit_form_with_a_hint() -> None:
    with pytest.raises(InvalidIdentifier) as excinfo:
        check_lg_code("13101")
    assert "lg_code_from_5" in excinfo.value.reason
    assert not is_valid_lg_code("13101")


@pytest.mark.parametrize(
    ("text", "reason_part"),
    [("1310160", "must have 6 digits, got 7"), ("1310", "got 4"), ("13101a", "not a digit")],
)
def test_check_lg_code_reasons(text: str, reason_part: str) -> None:
    with pytest.raises(InvalidIdentifier) as excinfo:
        check_lg_code(text)
    assert reason_part in excinfo.value.reason


@pytest.mark.parametrize("first5", ["1310", "131016", "１３１０１", "13 01"])
def test_lg_code_check_digit_is_strict(first5: str) -> None:
    with pytest.raises(InvalidIdentifier):
        lg_code_check_digit(first5)


@given(_digits(5))
def test_lg_code_computed_check_digit_validates(first5: str) -> None:
    check = lg_code_check_digit(first5)
    assert check == (11 - _lg_residue(first5)) % 10
    code = f"{first5}{check}"
    assert is_valid_lg_code(code)
    assert lg_code_from_5(first5) == code
    assert prefecture_code(code) == first5[:2]
    assert is_prefecture_code(code) == (first5[2:] == "000")


@given(valid_lg_codes, st.integers(0, 5), st.integers(1, 9))
def test_lg_code_single_digit_change(code: str, index: int, shift: int) -> None:
    """A single changed digit is caught unless the residue moves between 0 and 10 (both give check 1)."""
    mutated = _replace(code, index, (int(code[index]) + shift) % 10)
    undetectable = index < 5 and {_lg_residue(code[:5]), _lg_residue(mutated[:5])} == {0, 10}
    assert is_valid_lg_code(mutated) == undetectable


def test_lg_code_documented_blind_spot() -> None:
    # 2*5 = 10: the residue moves from 0 to 10 and (11 - r) % 10 is 1 both times.
    assert is_valid_lg_code("000001")
    assert is_valid_lg_code("000051")


@given(valid_lg_codes.flatmap(lambda c: st.tuples(st.just(c), decorated(c))))
def test_lg_code_full_width_and_separators_normalise(case: tuple[str, str]) -> None:
    code, text = case
    assert check_lg_code(text) == code


def test_lg_code_full_width_example() -> None:
    assert check_lg_code("１３１０１６") == "131016"
    assert is_prefecture_code("１３０００１")


def test_packaged_municipality_codes_validate() -> None:
    """Cross-check with the registry's packaged code list, when it is present."""
    try:
        text = (files("tsunagu.registry") / "data" / "municipalities.csv").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        pytest.skip("tsunagu.registry municipalities.csv not available")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows
    for row in rows:
        code = row["lg_code"]
        assert is_valid_lg_code(code), code
        assert lg_code_from_5(code[:5]) == code
        assert is_prefecture_code(code) == (row["prefecture"] == row["name"]), code


# --- errors for the public kinds -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fn", "kind"),
    [
        (check_my_number, IdentifierKind.MY_NUMBER),
        (check_corporate_number, IdentifierKind.CORPORATE_NUMBER),
        (check_lg_code, IdentifierKind.LG_CODE),
    ],
)
def test_non_digit_errors_carry_the_kind(fn: Callable[[str], object], kind: IdentifierKind) -> None:
    with pytest.raises(InvalidIdentifier) as excinfo:
        fn("12x")
    assert excinfo.value.kind == kind
    assert "not a digit" in excinfo.value.reason
    assert "12x" not in str(excinfo.value)

"""Japanese public identifiers: My Number (個人番号), Corporate Number (法人番号), local-government code.

Pure functions, standard library only, no I/O. Three identifiers are covered:

* **My Number** (個人番号, マイナンバー) — 12 digits, the check digit (検査用数字) is the *last* digit.
  Left to right, the first 11 digits are weighted ``6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2``;
  ``r = sum % 11``; the check digit is ``0`` if ``r <= 1`` else ``11 - r``.
* **Corporate Number** (法人番号) — 13 digits, the check digit is the *first* digit. With the other
  12 digits as the base, ``Pn`` the n-th digit from the right of the base (n = 1..12) and ``Qn`` = 1 for
  odd n, 2 for even n, the check digit is ``9 - (sum(Pn * Qn) % 9)`` (so it is never 0).
* **Local-government code** (全国地方公共団体コード) — 6 digits: a 5-digit code and a check digit
  ``(11 - (6*d1 + 5*d2 + 4*d3 + 3*d4 + 2*d5) % 11) % 10``. The first two digits are the prefecture
  (都道府県コード); a prefecture's own code has ``000`` as digits 3-5 (``130001`` 東京都).

Each identifier has the same family of functions: ``*_check_digit`` (strict arithmetic on ASCII digits),
``check_*`` (normalise with :func:`normalize_digits`, then validate; returns the canonical ASCII digits or
raises :class:`~tsunagu.kernel.errors.InvalidIdentifier`), ``is_valid_*`` (``check_*`` as a bool),
``format_*`` and ``mask_*`` (for display; they validate first).

Error messages never echo the input. For My Numbers this is a legal requirement (a My Number is
特定個人情報); the other kinds do not echo either, because a person who types a My Number into the
wrong field would otherwise see it leak into an error message, log line or problem+json body.

Known limits of the check digits (verified by the tests):

* Corporate Number: a single-digit change ``0 <-> 9`` in the base is **not** detected (both weights are
  1 and 2 modulo 9, and 9 ≡ 0). Every other single-digit change is detected.
* My Number: the check digit folds ``r = 0`` and ``r = 1`` together, so a single-digit change that moves
  ``r`` between 0 and 1 is **not** detected (``000000000000`` and ``200000000000`` are both valid).
* Local-government code: ``(11 - r) % 10`` folds ``r = 0`` and ``r = 10`` together, so a change that
  moves ``r`` between 0 and 10 is **not** detected (``000001`` and ``000051`` are both valid).

A check digit only catches typing mistakes; it proves nothing about whether a number was ever issued.
"""

from __future__ import annotations

import operator
import random
from enum import StrEnum
from typing import Final

from tsunagu.kernel.errors import InvalidIdentifier

__all__ = [
    "IdentifierKind",
    "InvalidIdentifier",
    "check_corporate_number",
    "check_lg_code",
    "check_my_number",
    "corporate_number_check_digit",
    "format_corporate_number",
    "format_my_number",
    "generate_corporate_number",
    "generate_my_number",
    "is_prefecture_code",
    "is_valid_corporate_number",
    "is_valid_lg_code",
    "is_valid_my_number",
    "lg_code_check_digit",
    "lg_code_from_5",
    "mask_corporate_number",
    "mask_my_number",
    "my_number_check_digit",
    "my_number_from_serial",
    "normalize_digits",
    "prefecture_code",
]


class IdentifierKind(StrEnum):
    """The identifiers this module knows; the value is used as ``InvalidIdentifier.kind``."""

    MY_NUMBER = "my_number"  # 個人番号
    CORPORATE_NUMBER = "corporate_number"  # 法人番号
    LG_CODE = "lg_code"  # 全国地方公共団体コード


#: ``InvalidIdentifier.kind`` for failures of :func:`normalize_digits` called on its own.
_DIGITS_KIND: Final = "digits"

_ASCII_DIGITS: Final = frozenset("0123456789")
_FULLWIDTH_TO_ASCII: Final = str.maketrans("０１２３４５６７８９", "0123456789")
#: Separators people type between digit groups. Besides the ASCII hyphen-minus: ‐ U+2010 HYPHEN,
#: ‑ U+2011, ‒ U+2012, – U+2013, — U+2014, ― U+2015, − U+2212 MINUS SIGN, － U+FF0D FULLWIDTH
#: HYPHEN-MINUS, ー U+30FC KATAKANA-HIRAGANA PROLONGED SOUND MARK (often typed for a dash) and its
#: half-width form ｰ U+FF70. Whitespace (including the ideographic space U+3000) is removed as well.
_HYPHENS: Final = frozenset("-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\uff0d\u30fc\uff70")

_MY_NUMBER_LENGTH: Final = 12
_MY_NUMBER_WEIGHTS: Final = (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
_CORPORATE_NUMBER_LENGTH: Final = 13
_LG_CODE_LENGTH: Final = 6
_MY_NUMBER_ASCII_BIAS: Final = 48 * sum(_MY_NUMBER_WEIGHTS)
_LG_CODE_WEIGHTS: Final = (6, 5, 4, 3, 2)

#: Parameters of the affine bijection used by :func:`my_number_from_serial`. The multiplier is odd and
#: not a multiple of 5, so it is a unit modulo 10**11 and ``serial -> (serial * A + B) % 10**11`` is a
#: permutation of 0..10**11-1.
_SERIAL_MODULUS: Final = 10**11
_SERIAL_MULTIPLIER: Final = 31_415_926_537
_SERIAL_OFFSET: Final = 27_182_818_284

_REASON_NOT_STR: Final = "identifiers must be passed as str (an int would lose leading zeros)"
_REASON_BAD_CHECK_DIGIT: Final = "check digit does not match"


def _is_ascii_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _normalize(text: str, kind: str) -> str:
    """:func:`normalize_digits`, reporting failures under ``kind``. Never echoes ``text``."""
    if not isinstance(text, str):
        raise TypeError(_REASON_NOT_STR)
    digits: list[str] = []
    for position, char in enumerate(text.translate(_FULLWIDTH_TO_ASCII), start=1):
        if char in _ASCII_DIGITS:
            digits.append(char)
        elif char in _HYPHENS or char.isspace():
            continue
        else:
            raise InvalidIdentifier(
                kind, f"contains a character that is not a digit, space or hyphen (at position {position})"
            )
    return "".join(digits)


def _require_digits(text: str, length: int, kind: str, what: str) -> None:
    """Strict argument check for the ``*_check_digit`` functions: exactly ``length`` ASCII digits."""
    if not isinstance(text, str):
        raise TypeError(_REASON_NOT_STR)
    if len(text) != length or not _is_ascii_digits(text):
        raise InvalidIdentifier(kind, f"{what} must be exactly {length} ASCII digits")


def _normalize_fixed_length(text: str, length: int, kind: str) -> str:
    digits = _normalize(text, kind)
    if len(digits) != length:
        raise InvalidIdentifier(kind, f"must have {length} digits, got {len(digits)}")
    return digits


def _group(digits: str, sizes: tuple[int, ...], separator: str) -> str:
    groups: list[str] = []
    start = 0
    for size in sizes:
        groups.append(digits[start : start + size])
        start += size
    return separator.join(groups)


def normalize_digits(text: str) -> str:
    """Return ``text`` as plain ASCII digits.

    Removes whitespace (including the full-width space) and hyphen-like separators (``-``, ``‐``,
    ``－``, ``ー``, ``−`` and other dashes) and converts full-width digits (全角数字, ``０``-``９``) to
    ASCII. Raises :class:`InvalidIdentifier` (kind ``"digits"``) if anything else remains; the message
    gives the position of the offending character but never the input. An empty or separator-only input
    gives ``""``; the ``check_*`` functions then report the wrong length.
    """
    return _normalize(text, _DIGITS_KIND)


# --- My Number (個人番号) -------------------------------------------------------------------------


def my_number_check_digit(first11: str) -> int:
    """Check digit (検査用数字) of a My Number (個人番号) from its first 11 digits (strict ASCII digits)."""
    _require_digits(first11, _MY_NUMBER_LENGTH - 1, IdentifierKind.MY_NUMBER.value, "the base")
    # Byte arithmetic: the ASCII code of each digit is 48 + d, so subtract 48 * sum(weights) once.
    remainder = (
        sum(map(operator.mul, first11.encode("ascii"), _MY_NUMBER_WEIGHTS)) - _MY_NUMBER_ASCII_BIAS
    ) % 11
    return 0 if remainder <= 1 else 11 - remainder


def check_my_number(text: str) -> str:
    """Validate a My Number (個人番号) and return its 12 ASCII digits.

    The input is normalised first (spaces, hyphens and full-width digits are accepted). Raises
    :class:`InvalidIdentifier` with kind ``"my_number"`` and a reason saying whether a character is not a
    digit, the length is wrong or the check digit does not match. The message never contains the number.
    """
    kind = IdentifierKind.MY_NUMBER.value
    digits = _normalize_fixed_length(text, _MY_NUMBER_LENGTH, kind)
    if my_number_check_digit(digits[:-1]) != int(digits[-1]):
        raise InvalidIdentifier(kind, _REASON_BAD_CHECK_DIGIT)
    return digits


def is_valid_my_number(text: str) -> bool:
    """Whether ``text`` is a valid My Number (個人番号), normalised like :func:`check_my_number`."""
    try:
        check_my_number(text)
    except InvalidIdentifier:
        return False
    return True


def generate_my_number(rng: random.Random) -> str:
    """A random, check-digit-valid My Number (個人番号) drawn from ``rng``. For synthetic data only.

    Any valid 12-digit string may be a real person's number; never present a generated one as real.
    """
    first11 = f"{rng.randrange(_SERIAL_MODULUS):011d}"
    return f"{first11}{my_number_check_digit(first11)}"


def my_number_from_serial(serial: int) -> str:
    """Deterministic, collision-free My Number (個人番号) for synthetic data (seeding, tests, demos) only.

    The first 11 digits are ``(serial * 31_415_926_537 + 27_182_818_284) % 10**11`` and the check digit is
    appended. The multiplier is coprime to 10, so this is a bijection from ``0 .. 10**11 - 1`` onto the
    valid My Numbers: distinct serials always give distinct numbers, and consecutive serials do not give
    visibly consecutive numbers. It is not a secret or a cipher: the serial is trivially recoverable, and the
    result may coincide with a real person's number, so never use it for real residents.
    """
    if isinstance(serial, bool) or not isinstance(serial, int):
        raise TypeError("serial must be an int")
    if not 0 <= serial < _SERIAL_MODULUS:
        raise ValueError(f"serial must be in 0..{_SERIAL_MODULUS - 1}, got {serial}")
    first11 = f"{(serial * _SERIAL_MULTIPLIER + _SERIAL_OFFSET) % _SERIAL_MODULUS:011d}"
    return f"{first11}{my_number_check_digit(first11)}"


def format_my_number(number: str) -> str:
    """Display form of a My Number (個人番号) in groups of four: ``"6214 9832 0257"``. Validates first."""
    return _group(check_my_number(number), (4, 4, 4), " ")


def mask_my_number(number: str) -> str:
    """Masked display form of a My Number (個人番号): ``"**** **** 0257"``; only the last 4 digits remain.

    Validates first (so invalid input raises rather than being half-shown).
    """
    return f"**** **** {check_my_number(number)[-4:]}"


# --- Corporate Number (法人番号) --------------------------------------------------------------------


def corporate_number_check_digit(base12: str) -> int:
    """Check digit (検査用数字) of a Corporate Number (法人番号) from its 12-digit base (strict ASCII digits).

    The check digit is the first of the 13 digits and is always in 1..9.
    """
    _require_digits(base12, _CORPORATE_NUMBER_LENGTH - 1, IdentifierKind.CORPORATE_NUMBER.value, "the base")
    total = sum(int(d) * (1 if n % 2 else 2) for n, d in enumerate(reversed(base12), start=1))
    return 9 - total % 9


def check_corporate_number(text: str) -> str:
    """Validate a Corporate Number (法人番号) and return its 13 ASCII digits.

    Normalises like :func:`normalize_digits`; raises :class:`InvalidIdentifier` (kind
    ``"corporate_number"``) for a non-digit character, a wrong length or a check digit that does not match.
    Note the rule's documented blind spot: a single ``0 <-> 9`` change in the base is not detected.
    """
    kind = IdentifierKind.CORPORATE_NUMBER.value
    digits = _normalize_fixed_length(text, _CORPORATE_NUMBER_LENGTH, kind)
    if corporate_number_check_digit(digits[1:]) != int(digits[0]):
        raise InvalidIdentifier(kind, _REASON_BAD_CHECK_DIGIT)
    return digits


def is_valid_corporate_number(text: str) -> bool:
    """Whether ``text`` is a valid Corporate Number (法人番号), see :func:`check_corporate_number`."""
    try:
        check_corporate_number(text)
    except InvalidIdentifier:
        return False
    return True


def generate_corporate_number(rng: random.Random) -> str:
    """A random, check-digit-valid Corporate Number (法人番号) drawn from ``rng``. For synthetic data only."""
    base12 = f"{rng.randrange(10**12):012d}"
    return f"{corporate_number_check_digit(base12)}{base12}"


def format_corporate_number(number: str) -> str:
    """Display form of a Corporate Number (法人番号), 1-4-4-4: ``"5-8356-7825-6246"``. Validates first."""
    return _group(check_corporate_number(number), (1, 4, 4, 4), "-")


def mask_corporate_number(number: str) -> str:
    """The same as :func:`format_corporate_number`: Corporate Numbers (法人番号) are not masked.

    Unlike a My Number, a Corporate Number is public information — the National Tax Agency (国税庁)
    publishes every one with the corporation's name and address on the 法人番号公表サイト — so hiding
    digits would protect nothing and only make records harder to match. The function exists so callers can
    mask any identifier kind uniformly.
    """
    return format_corporate_number(number)


# --- Local-government code (全国地方公共団体コード) -------------------------------------------------------


def lg_code_check_digit(first5: str) -> int:
    """Check digit of a local-government code (全国地方公共団体コード) from its first 5 ASCII digits."""
    _require_digits(first5, _LG_CODE_LENGTH - 1, IdentifierKind.LG_CODE.value, "the 5-digit code")
    total = sum(int(d) * w for d, w in zip(first5, _LG_CODE_WEIGHTS, strict=True))
    return (11 - total % 11) % 10


def check_lg_code(text: str) -> str:
    """Validate a 6-digit local-government code (全国地方公共団体コード) and return its ASCII digits.

    Normalises like :func:`normalize_digits`; raises :class:`InvalidIdentifier` (kind ``"lg_code"``) for a
    non-digit character, a length other than 6 or a check digit that does not match. A 5-digit code
    without its check digit is rejected; convert it with :func:`lg_code_from_5`.
    """
    kind = IdentifierKind.LG_CODE.value
    digits = _normalize(text, kind)
    if len(digits) == _LG_CODE_LENGTH - 1:
        raise InvalidIdentifier(kind, "must have 6 digits, got 5 (add the check digit with lg_code_from_5)")
    if len(digits) != _LG_CODE_LENGTH:
        raise InvalidIdentifier(kind, f"must have {_LG_CODE_LENGTH} digits, got {len(digits)}")
    if lg_code_check_digit(digits[:-1]) != int(digits[-1]):
        raise InvalidIdentifier(kind, _REASON_BAD_CHECK_DIGIT)
    return digits


def is_valid_lg_code(text: str) -> bool:
    """Whether ``text`` is a valid 6-digit 全国地方公共団体コード, normalised like :func:`check_lg_code`."""
    try:
        check_lg_code(text)
    except InvalidIdentifier:
        return False
    return True


def lg_code_from_5(first5: str) -> str:
    """The 6-digit 全国地方公共団体コード for a 5-digit code without check digit: ``"13101"`` -> ``"131016"``.

    The input is normalised like :func:`normalize_digits` and must then have exactly 5 digits.
    """
    digits = _normalize_fixed_length(first5, _LG_CODE_LENGTH - 1, IdentifierKind.LG_CODE.value)
    return f"{digits}{lg_code_check_digit(digits)}"


def prefecture_code(lg_code: str) -> str:
    """The 都道府県コード (first two digits) of a valid 6-digit code: ``"131016"`` -> ``"13"``."""
    return check_lg_code(lg_code)[:2]


def is_prefecture_code(lg_code: str) -> bool:
    """Whether a valid 6-digit code is a prefecture's own (都道府県 itself): digits 3-5 are ``000``.

    ``"130001"`` (東京都) -> ``True``; ``"131016"`` (千代田区) -> ``False``.
    """
    return check_lg_code(lg_code)[2:5] == "000"

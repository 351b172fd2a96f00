"""Rules of the My Number card (マイナンバーカード) itself: validity, who gets which certificate, card numbers and
the states a card can be in. Pure: no I/O.

Validity, as on the real card:

- the card: for a holder aged 18 or over on the day of issue, until the 10th birthday after issue; under 18, until
  the 5th birthday after issue (the face changes quickly);
- both certificates: until the 5th birthday after issue, and never beyond the card;
- no 署名用電子証明書 (signature certificate) for a holder under 15: it is issued later, when they apply at 15+.

"The Nth birthday after issue" is the Nth birthday falling strictly after the issue date. A holder born on 29
February has their birthday on 28 February in common years (as 年齢計算ニ関スル法律 counts ages).

Card numbers: a card has its own 12-character number, unrelated to the My Number (個人番号) so that a card
number seen on a screen or in a log reveals nothing about the person. Eleven random characters from the Crockford
base-32 alphabet (digits and uppercase letters without I, L, O, U: nothing to confuse with 1 or 0) and one check
character: the sum of each character's value times an odd weight, mod 32. Odd weights are units mod 32, so every
single-character error is caught. Shown as ``XXXX-XXXX-XXXX``. Almost every number contains a letter, and the
hyphenated display keeps even an all-digit one from being read as a My Number.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from tsunagu.kernel.errors import Forbidden, InvalidInput

ADULT_AGE = 18  # 成年: a card for an adult runs ten birthdays, for a minor five
SIGNATURE_MIN_AGE = 15  # no 署名用電子証明書 under 15
CARD_YEARS_ADULT = 10
CARD_YEARS_MINOR = 5
CERTIFICATE_YEARS = 5

SERIAL_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base 32
SERIAL_BODY = 11
SERIAL_LENGTH = SERIAL_BODY + 1


class CardStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"  # 一時停止: the holder asked to stop it now (restored only by staff)
    REVOKED = "revoked"  # 廃止: lost, reissued, death, moved out
    EXPIRED = "expired"


class CardSuspended(Forbidden):
    code = "card-suspended"
    title = "Card suspended"

    def __init__(self) -> None:
        super().__init__(
            "This card is suspended. To use it again, come to the municipal counter with a photo ID.",
            ja="このカードは一時停止されています。再開するには本人確認書類を持って市区町村の窓口に来てください。",
        )


class CardRevoked(Forbidden):
    code = "card-revoked"
    title = "Card revoked"

    def __init__(self) -> None:
        super().__init__(
            "This card is no longer valid (revoked). Apply for a new card at the municipal counter.",
            ja="このカードは廃止されており使えません。市区町村の窓口で再交付を申請してください。",
        )


class CardExpired(Forbidden):
    code = "card-expired"
    title = "Card expired"

    def __init__(self, expired_on: dt.date) -> None:
        super().__init__(
            f"This card expired after {expired_on.isoformat()}. Apply for a renewal at the municipal counter.",
            ja=f"このカードの有効期限（{expired_on.isoformat()}）が過ぎています。市区町村の窓口で更新してください。",
        )


class NoSignatureCertificate(Forbidden):
    """The card holds no usable 署名用電子証明書 (under 15, or revoked after a change of name or address)."""

    code = "no-signature-certificate"
    title = "No signature certificate"

    def __init__(self, *, under_age: bool = False) -> None:
        if under_age:
            en = (
                "This card has no signature certificate: none is issued to people under 15. "
                "Apply at the municipal counter from age 15."
            )
            ja = "署名用電子証明書は15歳未満の方には発行されません。15歳以降に窓口で申請してください。"
        else:
            en = (
                "This card holds no valid signature certificate (it is revoked when the name or address "
                "changes). Apply for a new one at the municipal counter."
            )
            ja = (
                "このカードには有効な署名用電子証明書がありません（氏名・住所の変更で失効します）。"
                "市区町村の窓口で発行を申請してください。"
            )
        super().__init__(en, ja=ja, under_age=under_age)


def age_on(birth_date: dt.date, day: dt.date) -> int:
    years = day.year - birth_date.year
    return years - ((day.month, day.day) < (birth_date.month, birth_date.day))


def birthday_in(year: int, birth_date: dt.date) -> dt.date:
    """The birthday in ``year`` (28 February in a common year for a 29 February birth)."""
    try:
        return birth_date.replace(year=year)
    except ValueError:
        return dt.date(year, 2, 28)


def nth_birthday_after(issue_date: dt.date, birth_date: dt.date, n: int) -> dt.date:
    """The ``n``-th birthday falling strictly after ``issue_date`` (``n`` ≥ 1)."""
    if n < 1:
        msg = "n must be at least 1"
        raise ValueError(msg)
    first_year = (
        issue_date.year if birthday_in(issue_date.year, birth_date) > issue_date else issue_date.year + 1
    )
    return birthday_in(first_year + n - 1, birth_date)


def card_expiry(issue_date: dt.date, birth_date: dt.date) -> dt.date:
    """Last day of validity of a card issued on ``issue_date``: 10 birthdays for 18+, 5 under 18."""
    years = CARD_YEARS_ADULT if age_on(birth_date, issue_date) >= ADULT_AGE else CARD_YEARS_MINOR
    return nth_birthday_after(issue_date, birth_date, years)


def certificate_expiry(issue_date: dt.date, birth_date: dt.date, card_expires_on: dt.date) -> dt.date:
    """Last day of a certificate issued on ``issue_date``: the 5th birthday after issue, never beyond the card."""
    return min(nth_birthday_after(issue_date, birth_date, CERTIFICATE_YEARS), card_expires_on)


def may_hold_signature_certificate(birth_date: dt.date, on: dt.date) -> bool:
    return age_on(birth_date, on) >= SIGNATURE_MIN_AGE


def effective_status(status: CardStatus, expires_on: dt.date, today: dt.date) -> CardStatus:
    """The status a person sees: an active or suspended card past its last day is expired."""
    if status in (CardStatus.ACTIVE, CardStatus.SUSPENDED) and today > expires_on:
        return CardStatus.EXPIRED
    return status


def check_usable(status: CardStatus, expires_on: dt.date, today: dt.date) -> None:
    """Raise the reason a card cannot be used today, if any."""
    current = effective_status(status, expires_on, today)
    if current is CardStatus.SUSPENDED:
        raise CardSuspended
    if current is CardStatus.REVOKED:
        raise CardRevoked
    if current is CardStatus.EXPIRED:
        raise CardExpired(expires_on)


def _check_char(body: str) -> str:
    total = sum(SERIAL_ALPHABET.index(c) * (2 * i + 1) for i, c in enumerate(body))
    return SERIAL_ALPHABET[total % len(SERIAL_ALPHABET)]


def card_serial(body: str) -> str:
    """The card number for 11 body characters (from :data:`SERIAL_ALPHABET`): the body and its check character."""
    if len(body) != SERIAL_BODY or any(c not in SERIAL_ALPHABET for c in body):
        msg = f"a card number body is {SERIAL_BODY} characters of {SERIAL_ALPHABET}"
        raise ValueError(msg)
    return body + _check_char(body)


def normalize_card_serial(text: str) -> str:
    """Accept ``XXXX-XXXX-XXXX``, spaces and lowercase; refuse a malformed number or a wrong check character."""
    value = "".join(text.split()).replace("-", "").upper()
    if (
        len(value) != SERIAL_LENGTH
        or any(c not in SERIAL_ALPHABET for c in value)
        or _check_char(value[:SERIAL_BODY]) != value[SERIAL_BODY]
    ):
        raise InvalidInput(
            "A card number is 12 characters (digits and letters), written like ABCD-EFGH-JKMN.",
            ja="カード番号は12文字の英数字です（例: ABCD-EFGH-JKMN）。",
            field="serial",
        )
    return value


def format_card_serial(serial: str) -> str:
    return "-".join(serial[i : i + 4] for i in range(0, len(serial), 4))

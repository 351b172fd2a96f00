"""暗証番号 (PIN) rules of the My Number card, as on the real card (J-LIS):

| slot | 日本語 | format | locks after |
|---|---|---|---|
| ``authentication`` | 利用者証明用電子証明書 | 4 digits | 3 consecutive failures |
| ``signature`` | 署名用電子証明書 | 6–16 of A–Z and 0–9, at least one letter and one digit | 5 consecutive failures |
| ``surface`` | 券面事項入力補助用 | 4 digits | 3 consecutive failures |

The failure counter counts *consecutive* failures: a correct PIN resets it, time never does, and once locked even
the correct PIN is refused until staff re-set the PIN at the municipal counter (after a photo-ID check).
Pure rules: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from tsunagu.kernel.errors import Forbidden, InvalidInput, NotAuthenticated


class PinSlot(StrEnum):
    AUTHENTICATION = "authentication"  # 利用者証明用電子証明書
    SIGNATURE = "signature"  # 署名用電子証明書
    SURFACE = "surface"  # 券面事項入力補助用


SLOT_NAMES_JA = {
    PinSlot.AUTHENTICATION: "利用者証明用電子証明書",
    PinSlot.SIGNATURE: "署名用電子証明書",
    PinSlot.SURFACE: "券面事項入力補助用",
}


@dataclass(frozen=True)
class PinPolicy:
    slot: PinSlot
    max_failures: int
    pattern: re.Pattern[str]
    rule_en: str
    rule_ja: str


_FOUR_DIGITS = re.compile(r"[0-9]{4}")
_FOUR_DIGIT_RULE = ("4 digits", "数字4桁")
POLICIES = {
    PinSlot.AUTHENTICATION: PinPolicy(PinSlot.AUTHENTICATION, 3, _FOUR_DIGITS, *_FOUR_DIGIT_RULE),
    PinSlot.SURFACE: PinPolicy(PinSlot.SURFACE, 3, _FOUR_DIGITS, *_FOUR_DIGIT_RULE),
    PinSlot.SIGNATURE: PinPolicy(
        PinSlot.SIGNATURE,
        5,
        re.compile(r"(?=[A-Z0-9]*[A-Z])(?=[A-Z0-9]*[0-9])[A-Z0-9]{6,16}"),
        "6 to 16 characters of uppercase letters A-Z and digits, with at least one letter and one digit",
        "英大文字（A〜Z）と数字を組み合わせた6〜16文字（英字と数字をそれぞれ1文字以上）",
    ),
}


class InvalidPin(InvalidInput):
    """A new PIN does not follow the slot's format (refused when setting a PIN, before anything is written)."""

    code = "invalid-pin"
    title = "The PIN does not follow the rules"


class WrongPin(NotAuthenticated):
    """The PIN entered is not the card's; ``remaining`` tries are left before it locks."""

    code = "wrong-pin"
    title = "Wrong PIN"

    def __init__(self, slot: PinSlot, remaining: int) -> None:
        super().__init__(
            f"The {slot.value} PIN is wrong. {remaining} more wrong attempt(s) will lock it.",
            ja=f"{SLOT_NAMES_JA[slot]}の暗証番号が違います。あと{remaining}回間違えるとロックされます。",
            slot=slot.value,
            remaining=remaining,
        )
        self.slot = slot
        self.remaining = remaining


class PinLocked(Forbidden):
    """The PIN is locked (too many consecutive failures); only staff at the municipal counter can re-set it."""

    code = "pin-locked"
    title = "PIN locked"

    def __init__(self, slot: PinSlot, *, just_locked: bool = False) -> None:
        why_en = "The PIN was wrong too many times and is now locked" if just_locked else "The PIN is locked"
        why_ja = (
            "暗証番号を続けて間違えたためロックされました" if just_locked else "暗証番号はロックされています"
        )
        super().__init__(
            f"{why_en} ({slot.value}). Please bring your card and a photo ID to the municipal counter "
            "to have the PIN re-set.",
            ja=f"{why_ja}（{SLOT_NAMES_JA[slot]}）。カードと本人確認書類を持って市区町村の窓口で"
            "暗証番号の再設定を受けてください。",
            slot=slot.value,
        )
        self.slot = slot


def check_new_pin(slot: PinSlot, pin: str) -> str:
    """Return the PIN if it follows the slot's format; otherwise raise :class:`InvalidPin` saying the rule.

    The message never echoes the PIN."""
    policy = POLICIES[slot]
    if not isinstance(pin, str) or policy.pattern.fullmatch(pin) is None:
        raise InvalidPin(
            f"The {slot.value} PIN must be {policy.rule_en}.",
            ja=f"{SLOT_NAMES_JA[slot]}の暗証番号は{policy.rule_ja}で設定してください。",
            field=f"{slot.value}_pin",
        )
    return pin


def is_valid_pin(slot: PinSlot, pin: str) -> bool:
    return POLICIES[slot].pattern.fullmatch(pin) is not None


@dataclass(frozen=True)
class PinCounter:
    """The state the chip keeps for one PIN: consecutive failures and whether it is locked."""

    failures: int = 0
    locked: bool = False

    def remaining(self, slot: PinSlot) -> int:
        return 0 if self.locked else max(0, POLICIES[slot].max_failures - self.failures)

    def after_success(self) -> PinCounter:
        if self.locked:
            msg = "a locked PIN cannot succeed"
            raise ValueError(msg)
        return PinCounter(0, False)

    def after_failure(self, slot: PinSlot) -> PinCounter:
        failures = self.failures + 1
        return PinCounter(failures, failures >= POLICIES[slot].max_failures)


def refusal(slot: PinSlot, before: PinCounter, after: PinCounter) -> WrongPin | PinLocked:
    """The error to report for a failed attempt that moved the counter from ``before`` to ``after``."""
    if after.locked:
        return PinLocked(slot, just_locked=not before.locked)
    return WrongPin(slot, after.remaining(slot))

"""How an account number is shown to anyone but the bank file: its last three digits only (``****567``)."""

from __future__ import annotations


def mask_account_number(number: str) -> str:
    return "*" * max(0, len(number) - 3) + number[-3:]

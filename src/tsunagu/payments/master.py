"""The bank and branch code master (金融機関コード・支店コード, zengin-code).

The master is read from a directory in the zengin-code source-data layout:

- ``banks.json``: an object keyed by the 4-digit bank code, each value ``{code, name, kana, hira, roma}``;
- ``branches/<bank code>.json``: an object keyed by the 3-digit branch code, same fields;
- ``updated_at``: the version of the data (``YYYYMMDD`` and a serial), kept with each registration.

By default it is the copy shipped inside the PyPI ``zengin-code`` package (``zengin_code/source-data/data``),
located with ``importlib.util.find_spec`` *without importing the package*: its ``__init__`` loads every bank and
branch at import time and needs ``six``. Banks are read at once (about 1,200); a bank's branches are read the first
time they are asked for and kept (a few hundred banks are ever asked for).

This module reads files: it is the one exception to "core does no I/O" in payments, because the master is
reference data shipped with the code (like ``registry/data``), not state. It imports no framework and no
database."""

from __future__ import annotations

import importlib.util
import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

__all__ = ["Bank", "Branch", "Master", "MasterMissing", "default_directory", "load"]

PACKAGE: Final = "zengin_code"
BANK_CODE: Final = re.compile(r"\d{4}")
BRANCH_CODE: Final = re.compile(r"\d{3}")


class MasterMissing(FileNotFoundError):
    """No master directory: neither given nor found in the installed ``zengin-code`` package."""


@dataclass(frozen=True)
class Bank:
    code: str  # 4 digits
    name: str  # as zengin-code writes it (kanji, without 銀行)
    kana: str  # full-width katakana
    hira: str
    roma: str


@dataclass(frozen=True)
class Branch:
    bank_code: str
    code: str  # 3 digits
    name: str
    kana: str
    hira: str
    roma: str


def _text(entry: Mapping[str, Any], key: str) -> str:
    value = entry.get(key, "")
    return value if isinstance(value, str) else ""


class Master:
    """One version of the master, read from ``directory``; safe to share between threads."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        banks_file = directory / "banks.json"
        if not banks_file.is_file():
            msg = f"{directory}: no banks.json (not a zengin-code source-data directory)"
            raise MasterMissing(msg)
        raw = json.loads(banks_file.read_text(encoding="utf-8"))
        self.banks: Mapping[str, Bank] = {
            code: Bank(code, _text(e, "name"), _text(e, "kana"), _text(e, "hira"), _text(e, "roma"))
            for code, e in raw.items()
            if BANK_CODE.fullmatch(code) and isinstance(e, dict)
        }
        version_file = directory / "updated_at"
        self.version = (
            version_file.read_text(encoding="utf-8").strip()[:20] if version_file.is_file() else "unknown"
        )
        self._branches: dict[str, Mapping[str, Branch]] = {}
        self._lock = threading.Lock()

    def bank(self, code: str) -> Bank | None:
        return self.banks.get(code) if BANK_CODE.fullmatch(code) else None

    def branches(self, bank_code: str) -> Mapping[str, Branch]:
        """Every branch of a bank (empty for an unknown bank), read once and cached."""
        if self.bank(bank_code) is None:
            return {}
        with self._lock:
            found = self._branches.get(bank_code)
        if found is not None:
            return found
        path = self.directory / "branches" / f"{bank_code}.json"
        raw = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        branches = {
            code: Branch(
                bank_code, code, _text(e, "name"), _text(e, "kana"), _text(e, "hira"), _text(e, "roma")
            )
            for code, e in raw.items()
            if BRANCH_CODE.fullmatch(code) and isinstance(e, dict)
        }
        with self._lock:
            self._branches[bank_code] = branches
        return branches

    def branch(self, bank_code: str, branch_code: str) -> Branch | None:
        if not BRANCH_CODE.fullmatch(branch_code):
            return None
        return self.branches(bank_code).get(branch_code)

    def has(self, bank_code: str, branch_code: str) -> bool:
        """Whether the bank and the branch are both in this master."""
        return self.branch(bank_code, branch_code) is not None


def default_directory() -> Path | None:
    """``source-data/data`` of the installed ``zengin-code`` package (the package itself is not imported)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "source-data" / "data"
        if (candidate / "banks.json").is_file():
            return candidate
    return None


def load(directory: Path | None = None) -> Master:
    """The master in ``directory``, or the one shipped with ``zengin-code`` (:class:`MasterMissing` if none)."""
    found = directory or default_directory()
    if found is None:
        msg = "No zengin-code master: install the zengin-code package or give the master directory."
        raise MasterMissing(msg)
    return Master(found)

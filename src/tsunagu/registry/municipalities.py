"""The master of local-government codes (全国地方公共団体コード) shipped in ``data/municipalities.csv``."""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass
from importlib import resources

from tsunagu.kernel.errors import InvalidInput
from tsunagu.kernel.identifiers import check_lg_code


@dataclass(frozen=True)
class Municipality:
    lg_code: str
    prefecture: str
    name: str
    kana: str

    @property
    def is_prefecture(self) -> bool:
        return self.lg_code[2:5] == "000"

    @property
    def full_name(self) -> str:
        return self.name if self.is_prefecture else f"{self.prefecture}{self.name}"


@dataclass(frozen=True)
class Town:
    lg_code: str
    town: str
    kana: str


def _read(name: str) -> list[dict[str, str]]:
    text = (resources.files("tsunagu.registry") / "data" / name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@functools.cache
def municipalities() -> dict[str, Municipality]:
    return {
        r["lg_code"]: Municipality(r["lg_code"], r["prefecture"], r["name"], r["kana"])
        for r in _read("municipalities.csv")
    }


@functools.cache
def demo_towns() -> tuple[Town, ...]:
    return tuple(Town(r["lg_code"], r["town"], r["kana"]) for r in _read("demo_towns.csv"))


def known_municipality(lg_code: str) -> Municipality:
    """Validate the check digit, then require the code in the master; raise a clear error otherwise."""
    code = check_lg_code(lg_code)
    found = municipalities().get(code)
    if found is None or found.is_prefecture:
        raise InvalidInput(
            f"The local-government code {code} is not a municipality in this installation's master.",
            ja=f"地方公共団体コード {code} の市区町村が見つかりません。",
            field="lg_code",
        )
    return found

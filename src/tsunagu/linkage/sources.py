"""The linkage domain's data files (``data/``), read once from the installed package and parsed by ``core``."""

from __future__ import annotations

import functools
from importlib import resources

from tsunagu.linkage.core.dictionary import AgencyEntry, Dictionary, parse_agencies, parse_items
from tsunagu.linkage.core.legal_basis import LegalBasisTable, parse_table


def data_text(name: str) -> str:
    return (resources.files("tsunagu.linkage") / "data" / name).read_text(encoding="utf-8")


@functools.cache
def dictionary() -> Dictionary:
    return parse_items(data_text("items.csv"))


@functools.cache
def agencies() -> tuple[AgencyEntry, ...]:
    return tuple(parse_agencies(data_text("agencies.csv")))


@functools.cache
def legal_basis() -> LegalBasisTable:
    return parse_table(data_text("legal_basis.csv"), dictionary())

"""Public interface of the laws domain (the only module other packages may import): the law model, the streaming
law XML parser and the diff between two versions of a law."""

from __future__ import annotations

from tsunagu.laws.core.diff import Changed, DifferentLaws, LawDiff, diff
from tsunagu.laws.core.model import Law, LawXmlError, Provision, Sentence
from tsunagu.laws.core.xmlparse import parse_law

__all__ = [
    "Changed",
    "DifferentLaws",
    "Law",
    "LawDiff",
    "LawXmlError",
    "Provision",
    "Sentence",
    "diff",
    "parse_law",
]

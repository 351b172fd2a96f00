"""The law model: a law as a flat tuple of provisions (paragraph-, item- and sub-item-level units) with stable
addresses.

An address names where a provision sits, not what it says, so the same article/paragraph/item numbers give the same
address in every version of a law: ``main/a4_2/p1/i3/si1-2`` is main provision, article 4-2, paragraph 1, item 3,
subitem1 2. Supplementary provisions are ``suppl[AMENDLAWNUM]/a1/p1`` (``suppl[orig]`` for the original law's own
附則). Articles keep their branch numbers as in ``Article@Num`` (``4_2`` for 第四条の二).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sentence:
    """One sentence's text (ruby base text, without the readings) and its role from ``Sentence@Function``:
    ``"main"`` (本文), ``"proviso"`` (ただし書) or ``""`` when the XML gives none."""

    text: str
    role: str


@dataclass(frozen=True)
class Provision:
    """A paragraph's own sentences, or one item's or sub-item's (with any table or list text inside it)."""

    law_id: str
    address: str
    part: str
    article: str | None
    paragraph: str | None
    items: tuple[str, ...]
    caption: str
    title: str
    sentences: tuple[Sentence, ...]
    deleted: bool

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.sentences)


@dataclass(frozen=True)
class Law:
    """One version of a law. ``version`` is the file name's ``{date}_{amend id}`` part (empty when parsed from bytes
    without a name); ``articles`` counts the Article elements of the main and the supplementary provisions."""

    law_id: str
    title: str
    law_num: str
    law_type: str
    version: str
    articles: int
    provisions: tuple[Provision, ...]


class LawXmlError(ValueError):
    """A file that cannot be read as a law: malformed or truncated XML, bytes that are not UTF-8, or not a Law.
    ``line`` and ``column`` are 1-based where known (0 when the position is unknown)."""

    def __init__(self, file: str, line: int, column: int, message_ja: str, message_en: str) -> None:
        self.file = file
        self.line = line
        self.column = column
        self.message_ja = message_ja
        self.message_en = message_en
        super().__init__(f"{file}:{line}:{column}: {message_en}")

    @property
    def message(self) -> str:
        return self.message_en

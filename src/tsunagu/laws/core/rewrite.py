"""Suggested rewrites toward the digital principles (デジタル原則に照らした文案), as data.

``data/rewrites.toml`` holds the five digital principles (構造改革のためのデジタル原則) and, for each detector
category, the principle it conflicts with, a short explanation and the edits that rewrite the matched words:
:func:`suggest` applies the first edit whose match overlaps the finding's evidence span (so the suggestion rewrites
what was actually found), or else adds the category's clause after the sentence that holds the evidence. The result
keeps both texts and the changed pieces, for a page that shows the change marked.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

from tsunagu.laws.core.detect import Finding
from tsunagu.laws.core.rules import CATEGORIES, RulesError


@dataclass(frozen=True)
class Principle:
    """One of the five digital principles for structural reform (December 2021)."""

    id: str
    number: int
    name_ja: str
    name_en: str
    summary_ja: str
    summary_en: str


@dataclass(frozen=True)
class Edit:
    regex: re.Pattern[str]
    replace: str


@dataclass(frozen=True)
class Guidance:
    """What to say about a category: its principles (the main one first), why, and how to rewrite."""

    category: str
    principle: Principle
    also: tuple[Principle, ...]
    explanation_ja: str
    explanation_en: str
    edits: tuple[Edit, ...]
    clause_ja: str


@dataclass(frozen=True)
class Piece:
    """A run of text: ``same`` in both versions, ``removed`` from the original or ``added`` by the rewrite."""

    kind: str
    text: str


@dataclass(frozen=True)
class Rewrite:
    """The provision before and after the suggested change; ``pieces`` read in order give both (``same`` and
    ``removed`` make ``before``; ``same`` and ``added`` make ``after``). ``how`` is ``"edit"`` (the matched words
    rewritten) or ``"clause"`` (a sentence added)."""

    before: str
    after: str
    pieces: tuple[Piece, ...]
    how: str


@dataclass(frozen=True)
class Rewrites:
    principles: tuple[Principle, ...]
    guidance: dict[str, Guidance]

    def for_category(self, category: str) -> Guidance:
        return self.guidance[category]


def _text(table: dict[str, Any], key: str, where: str, *, required: bool = True) -> str:
    value = table.get(key, None if required else "")
    if not isinstance(value, str) or (required and not value):
        raise RulesError(f"{where}.{key}", "missing" if value is None else "must be a non-empty string")
    return value


def _edit(table: Any, where: str) -> Edit:
    if not isinstance(table, dict):
        raise RulesError(where, "must be a table")
    try:
        regex = re.compile(_text(table, "regex", where))
    except re.error as exc:
        raise RulesError(f"{where}.regex", f"not a valid regular expression ({exc})") from None
    replace = _text(table, "replace", where)
    groups = [int(g) for g in re.findall(r"\\g<(\d+)>", replace)]
    if any(g > regex.groups for g in groups):
        raise RulesError(f"{where}.replace", f"refers to a group the regex does not have ({regex.groups})")
    return Edit(regex, replace)


def _principle(table: Any, where: str) -> Principle:
    if not isinstance(table, dict) or not isinstance(table.get("number"), int):
        raise RulesError(f"{where}.number", "missing")
    fields = ("id", "name_ja", "name_en", "summary_ja", "summary_en")
    values = {f: _text(table, f, where) for f in fields}
    return Principle(number=table["number"], **values)


def _guidance(table: Any, where: str, principles: dict[str, Principle]) -> Guidance:
    if not isinstance(table, dict):
        raise RulesError(where, "must be a table")
    category = _text(table, "id", where)
    if category not in CATEGORIES:
        raise RulesError(f"{where}.id", f"unknown category {category!r}")
    names = [_text(table, "principle", where), *table.get("also", [])]
    unknown = [n for n in names if n not in principles]
    if unknown:
        raise RulesError(f"{where}.principle", f"unknown principle {unknown[0]!r}")
    edits = tuple(_edit(e, f"{where}.edit[{i}]") for i, e in enumerate(table.get("edit", [])))
    clause = _text(table, "clause_ja", where, required=False)
    if not edits and not clause:
        raise RulesError(where, "needs an edit or a clause_ja")
    return Guidance(
        category=category,
        principle=principles[names[0]],
        also=tuple(principles[n] for n in names[1:]),
        explanation_ja=_text(table, "explanation_ja", where),
        explanation_en=_text(table, "explanation_en", where),
        edits=edits,
        clause_ja=clause,
    )


def parse_rewrites(text: str) -> Rewrites:
    """Parse the rewrites file; a :class:`RulesError` names the key of the first problem. Every detector category
    must have its guidance."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError("", f"not valid TOML ({exc})") from None
    if data.get("version") != 1:
        raise RulesError("version", "unsupported version (this tsunagu reads version 1)")
    principles = tuple(_principle(p, f"principle[{i}]") for i, p in enumerate(data.get("principle", [])))
    by_id = {p.id: p for p in principles}
    guidance: dict[str, Guidance] = {}
    for i, table in enumerate(data.get("category", [])):
        found = _guidance(table, f"category[{i}]", by_id)
        if found.category in guidance:
            raise RulesError(f"category[{i}].id", f"duplicate category {found.category!r}")
        guidance[found.category] = found
    missing = [c for c in CATEGORIES if c not in guidance]
    if missing:
        raise RulesError("category", f"no guidance for {', '.join(missing)}")
    return Rewrites(principles, guidance)


_DEFAULT: list[Rewrites] = []


def default_rewrites() -> Rewrites:
    """The packaged rewrites (parsed once per process)."""
    if not _DEFAULT:
        text = files("tsunagu.laws").joinpath("data/rewrites.toml").read_text(encoding="utf-8")
        _DEFAULT.append(parse_rewrites(text))
    return _DEFAULT[0]


def _pieces(text: str, start: int, end: int, new: str) -> tuple[Piece, ...]:
    """The change of ``text[start:end]`` into ``new``, with the common beginning and end left unmarked."""
    old = text[start:end]
    head = 0
    while head < min(len(old), len(new)) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    runs = [
        Piece("same", text[: start + head]),
        Piece("removed", old[head : len(old) - tail]),
        Piece("added", new[head : len(new) - tail]),
        Piece("same", text[end - tail :]),
    ]
    return tuple(p for p in runs if p.text)


def _edited(text: str, finding: Finding, edits: tuple[Edit, ...]) -> tuple[int, int, str] | None:
    for edit in edits:
        for match in edit.regex.finditer(text):
            if match.start() < finding.end and match.end() > finding.start and match.end() > match.start():
                return match.start(), match.end(), match.expand(edit.replace)
    return None


def suggest(text: str, finding: Finding, guidance: Guidance) -> Rewrite | None:
    """The provision ``text`` rewritten for ``finding``: the first edit that matches over the evidence, else the
    category's clause after the sentence that holds the evidence (None when the category has neither)."""
    edited = _edited(text, finding, guidance.edits)
    if edited is not None:
        start, end, new = edited
        how = "edit"
    elif not guidance.clause_ja:
        return None
    else:
        clause = guidance.clause_ja.replace("{matched}", finding.matched)
        stop = text.find("。", finding.end)
        if stop < 0:
            start = end = len(text.rstrip())
            clause = "。" + clause
        else:
            start = end = stop + 1
        new, how = clause, "clause"
    after = text[:start] + new + text[end:]
    return Rewrite(before=text, after=after, pieces=_pieces(text, start, end, new), how=how)

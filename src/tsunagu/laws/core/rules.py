"""Rules as data for the analog-regulation detector (アナログ規制の点検ルール).

The rules live in ``tsunagu/laws/data/rules.toml``; :func:`parse_rules` turns that text into frozen, compiled
:class:`Rules` and names the offending key in a :class:`RulesError` when something is wrong, so a person editing the
file sees ``category[3].pattern[1].regex: …`` rather than a traceback.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

CATEGORIES = ("mokushi", "jitchi", "teiki", "jochu", "taimen", "keiji", "etsuran", "media", "shomen")
SCOPES = ("provision", "window", "article")


class RulesError(ValueError):
    """A rules file that cannot be used; ``key`` names where (``category[2].pattern[0].regex``)."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        super().__init__(f"{key}: {message}" if key else message)


@dataclass(frozen=True)
class Pattern:
    id: str
    regex: re.Pattern[str]
    context: re.Pattern[str] | None
    window: int
    confidence: float


@dataclass(frozen=True)
class Exclusion:
    id: str
    regex: re.Pattern[str]
    scope: str
    window: int
    categories: frozenset[str]
    note: str


@dataclass(frozen=True)
class Category:
    id: str
    name_ja: str
    name_en: str
    technology: str
    confidence: float
    patterns: tuple[Pattern, ...]
    exclusions: tuple[Exclusion, ...]


@dataclass(frozen=True)
class Rules:
    version: int
    categories: tuple[Category, ...]
    exclusions: tuple[Exclusion, ...]  # global: each applies to the categories it names

    def category(self, category_id: str) -> Category:
        for category in self.categories:
            if category.id == category_id:
                return category
        raise KeyError(category_id)


def _get(table: dict[str, Any], key: str, where: str, kind: type, default: Any = None) -> Any:
    if key not in table:
        if default is not None:
            return default
        raise RulesError(f"{where}.{key}" if where else key, "missing")
    value = table[key]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise RulesError(f"{where}.{key}" if where else key, f"must be a {kind.__name__}")
    return value


def _regex(table: dict[str, Any], key: str, where: str, *, required: bool = True) -> re.Pattern[str] | None:
    if key not in table and not required:
        return None
    text = _get(table, key, where, str)
    if not text:
        raise RulesError(f"{where}.{key}", "must not be empty")
    try:
        return re.compile(text)
    except re.error as exc:
        raise RulesError(f"{where}.{key}", f"not a valid regular expression ({exc})") from None


def _confidence(table: dict[str, Any], where: str, default: float) -> float:
    value = float(_get(table, "confidence", where, float, default))
    if not 0.0 <= value <= 1.0:
        raise RulesError(f"{where}.confidence", "must be between 0 and 1")
    return value


def _window(table: dict[str, Any], where: str, default: int) -> int:
    value = int(_get(table, "window", where, int, default))
    if value < 0:
        raise RulesError(f"{where}.window", "must not be negative")
    return value


def _exclusion(table: Any, where: str, window: int, own: str | None) -> Exclusion:
    if not isinstance(table, dict):
        raise RulesError(where, "must be a table")
    scope = _get(table, "scope", where, str, "provision")
    if scope not in SCOPES:
        raise RulesError(f"{where}.scope", f"must be one of {', '.join(SCOPES)} (got {scope!r})")
    names = [own] if own else _get(table, "categories", where, list, list(CATEGORIES))
    for name in names:
        if name not in CATEGORIES:
            raise RulesError(f"{where}.categories", f"unknown category {name!r}")
    regex = _regex(table, "regex", where)
    assert regex is not None  # noqa: S101 - required=True
    return Exclusion(
        id=_get(table, "id", where, str),
        regex=regex,
        scope=scope,
        window=_window(table, where, window),
        categories=frozenset(names),
        note=_get(table, "note", where, str, ""),
    )


def _pattern(table: Any, where: str, window: int, confidence: float) -> Pattern:
    if not isinstance(table, dict):
        raise RulesError(where, "must be a table")
    regex = _regex(table, "regex", where)
    assert regex is not None  # noqa: S101 - required=True
    return Pattern(
        id=_get(table, "id", where, str),
        regex=regex,
        context=_regex(table, "context", where, required=False),
        window=_window(table, where, window),
        confidence=_confidence(table, where, confidence),
    )


def _category(table: Any, where: str, window: int) -> Category:
    if not isinstance(table, dict):
        raise RulesError(where, "must be a table")
    cid = _get(table, "id", where, str)
    if cid not in CATEGORIES:
        raise RulesError(f"{where}.id", f"unknown category {cid!r} (one of {', '.join(CATEGORIES)})")
    if "confidence" not in table:
        raise RulesError(f"{where}.confidence", "missing")
    confidence = _confidence(table, where, 0.0)
    patterns = _get(table, "pattern", where, list)
    if not patterns:
        raise RulesError(f"{where}.pattern", "needs at least one pattern")
    return Category(
        id=cid,
        name_ja=_get(table, "name_ja", where, str),
        name_en=_get(table, "name_en", where, str),
        technology=_get(table, "technology", where, str),
        confidence=confidence,
        patterns=tuple(
            _pattern(p, f"{where}.pattern[{i}]", window, confidence) for i, p in enumerate(patterns)
        ),
        exclusions=tuple(
            _exclusion(e, f"{where}.exclude[{i}]", window, cid)
            for i, e in enumerate(_get(table, "exclude", where, list, []))
        ),
    )


def parse_rules(text: str) -> Rules:
    """Parse and compile the rules; a :class:`RulesError` names the key of the first problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError("", f"not valid TOML ({exc})") from None
    version = _get(data, "version", "", int)
    if version != 1:
        raise RulesError("version", f"unsupported version {version} (this tsunagu reads version 1)")
    window = int(_get(data, "default_window", "", int, 40))
    if window < 0:
        raise RulesError("default_window", "must not be negative")
    categories = tuple(
        _category(c, f"category[{i}]", window) for i, c in enumerate(_get(data, "category", "", list))
    )
    seen: set[str] = set()
    for i, category in enumerate(categories):
        if category.id in seen:
            raise RulesError(f"category[{i}].id", f"duplicate category {category.id!r}")
        seen.add(category.id)
    exclusions = tuple(
        _exclusion(e, f"exclude[{i}]", window, None)
        for i, e in enumerate(_get(data, "exclude", "", list, []))
    )
    return Rules(version=version, categories=categories, exclusions=exclusions)


def default_rules_text() -> str:
    return files("tsunagu.laws").joinpath("data/rules.toml").read_text(encoding="utf-8")


_DEFAULT: list[Rules] = []


def default_rules() -> Rules:
    """The packaged rules (parsed once per process)."""
    if not _DEFAULT:
        _DEFAULT.append(parse_rules(default_rules_text()))
    return _DEFAULT[0]

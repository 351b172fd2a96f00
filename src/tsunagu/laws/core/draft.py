"""The draft checker (デジタル原則適合性確認): a draft provision, pasted as text or uploaded as law XML, checked by the
analog-regulation detector, each finding with a suggested rewrite toward the digital principles.

Pasted text is read the way laws are laid out: a line ``第三条　…`` starts article 3 (``第三条の二`` keeps its branch
number), a caption line ``（…）`` names the next article, ``２　…`` starts paragraph 2 and ``一　…`` item 1. Each
paragraph or item is one provision of law ID ``DRAFT`` (``draft/a3/p2/i1``; ``draft/p1``, ``draft/p2`` … for text
without article headings, all then one article, so a later paragraph that allows 電磁的方法 clears an earlier one's
paper duty as it would in a law). A line that does not end a sentence (no ``。``) and is followed by an unnumbered
line is joined to it (text wrapped by hand). Sentences split after ``。``; one that starts with ただし is a proviso.

Nothing is stored. Limits: text up to :data:`TEXT_MAX` characters, XML up to :data:`XML_MAX` bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from tsunagu.laws.core.detect import Finding, detect_law
from tsunagu.laws.core.model import LawXmlError, Provision, Sentence
from tsunagu.laws.core.review import article_label
from tsunagu.laws.core.rewrite import Guidance, Rewrite, Rewrites, default_rewrites, suggest
from tsunagu.laws.core.rules import Rules
from tsunagu.laws.core.xmlparse import parse_law

DRAFT_LAW_ID = "DRAFT"
_PARSED_AS = "DRAFT0000000000"  # the parser wants a law ID of 15 letters and digits; a draft has none yet
TEXT_MAX = 20_000
XML_MAX = 2 * 1024 * 1024
_NUM = "0-9０-９〇一二三四五六七八九十百千"
_SPACE = r"[ \t　]"
ARTICLE = re.compile(rf"^第(?P<num>[{_NUM}]+)条(?P<branch>(の[{_NUM}]+)*)(?:{_SPACE}+(?P<rest>.*))?$")
PARAGRAPH = re.compile(rf"^(?P<num>[0-9０-９]+){_SPACE}+(?P<rest>.+)$")
ITEM = re.compile(
    rf"^(?P<num>[一二三四五六七八九十百]+)(?P<branch>(の[一二三四五六七八九十]+)*){_SPACE}+(?P<rest>.+)$"
)
SUBITEM = re.compile(rf"^(?P<num>[イロハニホヘトチリヌルヲワカヨタレソツネナラム]){_SPACE}+(?P<rest>.+)$")
CAPTION = re.compile(r"^（[^（）]+）$")
_IROHA = "イロハニホヘトチリヌルヲワカヨタレソツネナラム"
_KANJI_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九")}
_KANJI_UNITS = {"十": 10, "百": 100, "千": 1000}


class DraftError(ValueError):
    """A draft that cannot be checked: empty, too long, or XML the parser refused (``line``/``column`` 1-based,
    0 when not about a position)."""

    def __init__(
        self, code: str, message_ja: str, message_en: str, *, line: int = 0, column: int = 0
    ) -> None:
        self.code = code
        self.message_ja = message_ja
        self.message_en = message_en
        self.line = line
        self.column = column
        super().__init__(message_en)


@dataclass(frozen=True)
class DraftFinding:
    """A finding in the draft, where it is (``label`` in Japanese, ``line`` of the pasted text, 0 for XML), the
    guidance for its category and the suggested rewrite."""

    provision: Provision
    label: str
    line: int
    finding: Finding
    guidance: Guidance
    rewrite: Rewrite | None

    @property
    def evidence(self) -> tuple[str, str, str]:
        """The provision's text before the match, the match, and after it (for marking the match)."""
        text, f = self.provision.text, self.finding
        return text[: f.start], text[f.start : f.end], text[f.end :]


@dataclass(frozen=True)
class DraftResult:
    source: str  # "text" | "xml"
    title: str
    provisions: int
    findings: tuple[DraftFinding, ...]


def number(text: str) -> int:
    """A number as laws write it, in kanji (二十四, 百五) or digits (24, ２４)."""
    if text.isdigit():
        return int(text)
    total, digits = 0, 0
    for char in text:
        if char in _KANJI_DIGITS:
            digits = digits * 10 + _KANJI_DIGITS[char]
        elif char in _KANJI_UNITS:
            total += (digits or 1) * _KANJI_UNITS[char]
            digits = 0
        else:
            raise ValueError(text)
    return total + digits


def _branches(text: str | None) -> str:
    return "".join(f"_{number(b)}" for b in (text or "").split("の") if b)


@dataclass
class _Unit:
    line: int
    address: str
    label: str
    heading: str
    caption: str
    article: str | None
    paragraph: str
    items: tuple[str, ...]
    lines: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(self.lines)


@dataclass
class _Layout:
    """Where the reader is in the pasted text."""

    article: str | None = None
    heading: str = ""
    caption: str = ""
    pending_caption: str = ""
    paragraph: int = 0
    items: tuple[str, ...] = ()
    fresh: bool = False  # an article heading was read and no paragraph of it yet
    in_text: bool = False  # the line before was text of the last unit (so a wrapped line may continue it)
    units: list[_Unit] = field(default_factory=list)
    used: set[str] = field(default_factory=set)

    def start(self, line: int, rest: str) -> None:
        base = f"draft/a{self.article}/p{self.paragraph}" if self.article else f"draft/p{self.paragraph}"
        base += "".join(f"/{segment}" for segment in self.items)
        address, n = base, 1
        while address in self.used:
            n += 1
            address = f"{base}-{n}"
        self.used.add(address)
        label = ""
        if self.article:
            label = article_label("main/" + base.removeprefix("draft/"))
        self.units.append(
            _Unit(
                line,
                address,
                label,
                self.heading,
                self.caption,
                self.article,
                str(self.paragraph),
                self.items,
            )
        )
        self.units[-1].lines.append(rest)
        self.fresh, self.in_text = False, True

    def read(self, line: int, text: str, *, joined: bool) -> None:
        """Take one non-blank line; ``joined`` when the line before it was not blank."""
        if CAPTION.match(text):
            self.pending_caption, self.in_text = text, False
            return
        if (m := ARTICLE.match(text)) is not None:
            self.article = f"{number(m['num'])}{_branches(m['branch'])}"
            self.heading = f"第{m['num']}条{m['branch'] or ''}"
            self.caption, self.pending_caption = self.pending_caption, ""
            self.paragraph, self.items, self.fresh, self.in_text = 1, (), True, False
            if m["rest"]:
                self.start(line, m["rest"])
            return
        if (m := PARAGRAPH.match(text)) is not None:
            self.paragraph, self.items = number(m["num"]), ()
            self.start(line, m["rest"])
            return
        if (m := ITEM.match(text)) is not None:
            self.items = (f"i{number(m['num'])}{_branches(m['branch'])}",)
            self.start(line, m["rest"])
            return
        if (m := SUBITEM.match(text)) is not None and self.items:
            self.items = (self.items[0], f"si1-{_IROHA.index(m['num']) + 1}")
            self.start(line, m["rest"])
            return
        if joined and self.in_text and not self.units[-1].text.endswith("。"):
            self.units[-1].lines.append(text)  # a sentence wrapped by hand
            return
        if not self.fresh:
            self.paragraph += 1
        self.items = ()
        self.start(line, text)


def sentences(text: str) -> tuple[Sentence, ...]:
    """The text split after each 。; a sentence that begins with ただし is a proviso (ただし書)."""
    parts = re.findall(r"[^。]*。|[^。]+$", text)
    return tuple(
        Sentence(p, "proviso" if p.lstrip("　 ").startswith("ただし") else "main") for p in parts if p
    )


def split_draft(text: str) -> list[tuple[Provision, str, int]]:
    """The pasted text as provisions of law ``DRAFT``, each with its Japanese label and first line."""
    layout = _Layout()
    joined = False
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip(" \t\r　")
        if not line:
            joined = False
            continue
        layout.read(n, line, joined=joined)
        joined = True
    out = []
    for unit in layout.units:
        provision = Provision(
            law_id=DRAFT_LAW_ID,
            address=unit.address,
            part="main",
            article=unit.article,
            paragraph=unit.paragraph,
            items=unit.items,
            caption=unit.caption,
            title=unit.heading,
            sentences=sentences(unit.text),
            deleted=False,
        )
        out.append((provision, unit.label, unit.line))
    return out


def _findings(
    placed: list[tuple[Provision, str, int]], rules: Rules | None, rewrites: Rewrites | None
) -> tuple[DraftFinding, ...]:
    rewrites = rewrites or default_rewrites()
    where = {p.address: (p, label, line) for p, label, line in placed}
    order = {p.address: i for i, (p, _, _) in enumerate(placed)}
    found = sorted(detect_law([p for p, _, _ in placed], rules), key=lambda f: (order[f.address], f.start))
    out = []
    for finding in found:
        provision, label, line = where[finding.address]
        guidance = rewrites.for_category(finding.category)
        rewrite = suggest(provision.text, finding, guidance)
        out.append(DraftFinding(provision, label, line, finding, guidance, rewrite))
    return tuple(out)


def check_draft(text: str, *, rules: Rules | None = None, rewrites: Rewrites | None = None) -> DraftResult:
    """Check pasted draft text; :class:`DraftError` when it is empty or longer than :data:`TEXT_MAX`."""
    if len(text) > TEXT_MAX:
        raise DraftError(
            "too-long",
            f"条文は{TEXT_MAX:,}文字以内にしてください（{len(text):,}文字あります）。",
            f"The text is limited to {TEXT_MAX:,} characters (it has {len(text):,}).",
        )
    placed = split_draft(text)
    if not placed:
        raise DraftError("empty", "確認する条文を入力してください。", "Enter the provisions to check.")
    return DraftResult("text", "", len(placed), _findings(placed, rules, rewrites))


def check_draft_xml(
    data: bytes, name: str, *, rules: Rules | None = None, rewrites: Rewrites | None = None
) -> DraftResult:
    """Check a draft in the standard law XML; :class:`DraftError` with the parser's line and column when it cannot
    be read, or when it is larger than :data:`XML_MAX` bytes."""
    if len(data) > XML_MAX:
        raise DraftError(
            "too-large",
            f"XML ファイルは{XML_MAX // (1024 * 1024)}MB以内にしてください（{len(data):,}バイトあります）。",
            f"The XML file is limited to {XML_MAX // (1024 * 1024)} MB (it has {len(data):,} bytes).",
        )
    try:
        law = parse_law(data, law_id=_PARSED_AS, name=name)
    except LawXmlError as exc:
        raise DraftError("xml", exc.message_ja, exc.message_en, line=exc.line, column=exc.column) from exc
    placed = [(replace(p, law_id=DRAFT_LAW_ID), article_label(p.address), 0) for p in law.provisions]
    return DraftResult("xml", law.title, len(placed), _findings(placed, rules, rewrites))


__all__ = [
    "DRAFT_LAW_ID",
    "TEXT_MAX",
    "XML_MAX",
    "DraftError",
    "DraftFinding",
    "DraftResult",
    "check_draft",
    "check_draft_xml",
    "number",
]

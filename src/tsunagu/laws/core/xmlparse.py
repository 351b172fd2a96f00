"""Streaming parser for the standard law XML (法令標準XML v3, as the e-Gov law API v2 serves it) into a :class:`Law`.

One pass with ``lxml.etree.iterparse``; each element is cleared as soon as it has been read, so memory stays flat
however long the law. Tolerant by design: attributes the schema does not declare (the API v2 adds ``Law@LawId``,
``@Category``, ``SupplProvision@AmendLawId`` …) are ignored, and the text of elements it does not know is kept in the
enclosing provision. Appendix tables and forms (別表, 様式) outside any article are not provisions here.

Provisions are paragraphs and items/sub-items (each with its own sentences only); the text of tables, lists and
columns inside one belongs to it. Columns (``Column``, e.g. a defined term and its definition) after the first are
prefixed with a full-width space so that their words do not run together. Amendment text quoted in an
``AmendProvision`` is text of the enclosing provision, not structure, and its articles are not counted.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from lxml import etree

from tsunagu.laws.core.model import Law, LawXmlError, Provision, Sentence

FILE_NAME = re.compile(r"^(?P<law_id>[0-9A-Za-z]{15})_(?P<version>\d{8}_[0-9A-Za-z]{15})$")
LAW_ID = re.compile(r"^[0-9A-Za-z]{15}$")
SUBITEM = re.compile(r"^Subitem(\d{1,2})$")
DELETED_TEXT = "削除"
WHITESPACE = " \t\r\n"  # ASCII only: the full-width space is part of the law's text
UNIT_TAGS = frozenset({"Paragraph", "Item"})
# Headings and numbers: structure, not text of a provision (captions and titles are kept in their own fields).
HEADING_TAGS = frozenset(
    {
        "ArticleTitle",
        "ArticleCaption",
        "ParagraphCaption",
        "ParagraphNum",
        "ItemTitle",
        "SupplProvisionLabel",
        "LawTitle",
        "LawNum",
        "ChapterTitle",
        "SectionTitle",
        "SubsectionTitle",
        "DivisionTitle",
        "PartTitle",
    }
)
SUBITEM_TITLE = re.compile(r"^Subitem\d{1,2}Title$")
ROLES = {"main": "main", "proviso": "proviso"}


@dataclass
class _Unit:
    """A paragraph, item or sub-item being read: its slot in the output keeps document order."""

    slot: int
    segment: str
    num: str
    deleted: bool
    caption: str = ""
    sentences: list[Sentence] = field(default_factory=list)


@dataclass
class _Part:
    kind: str  # "main" | "suppl"
    label: str  # "main" or "suppl[AMENDLAWNUM|orig]"


@dataclass
class _Article:
    num: str
    deleted: bool
    caption: str = ""
    title: str = ""


def _text(element: etree._Element) -> str:
    """The element's text with ruby readings (Rt) left out and comments skipped, tails of children kept."""
    parts = [element.text or ""]
    for child in element:
        if isinstance(child.tag, str) and child.tag != "Rt":
            parts.append(_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _line(element: etree._Element) -> int:
    line = element.sourceline
    return line if isinstance(line, int) else 0


def _identity(source: str | Path | bytes, law_id: str | None, name: str | None) -> tuple[str, str, str]:
    """(name for errors, law ID from the file name, version from the file name)."""
    if isinstance(source, bytes):
        shown = name or "<bytes>"
        stem = Path(name).stem if name else ""
    else:
        shown = str(source)
        stem = Path(source).stem
    match = FILE_NAME.match(stem)
    file_law_id = match["law_id"] if match else ""
    version = match["version"] if match else ""
    return shown, law_id or file_law_id, version


def parse_law(source: str | Path | bytes, *, law_id: str | None = None, name: str | None = None) -> Law:
    """Parse one law XML file (a path) or document (bytes; ``name`` is shown in errors and read like a file name).

    The law ID comes from ``law_id``, else the file name (``{LawId}_{date}_{amendId}.xml``), else ``Law@LawId``.
    Raises :class:`LawXmlError` naming the file and the line and column for malformed, truncated or non-UTF-8 XML,
    a document that is not a ``Law``, or a law whose ID cannot be found.
    """
    shown, known_id, version = _identity(source, law_id, name)
    try:
        stream: IO[bytes] = io.BytesIO(source) if isinstance(source, bytes) else Path(source).open("rb")  # noqa: SIM115
    except OSError as exc:
        raise LawXmlError(
            shown, 0, 0, f"ファイルを開けません: {exc.strerror}", f"cannot open: {exc.strerror}"
        ) from exc
    with stream:
        return _Reader(shown, known_id, version).read(stream)


class _Reader:
    def __init__(self, shown: str, law_id: str, version: str) -> None:
        self.shown = shown
        self.law_id = law_id
        self.version = version
        self.title = ""
        self.law_num = ""
        self.law_type = ""
        self.articles = 0
        self.slots: list[Provision | None] = []
        self.addresses: dict[str, int] = {}
        self.part: _Part | None = None
        self.article: _Article | None = None
        self.units: list[_Unit] = []
        self.sentence_depth = 0
        self.amend_depth = 0  # inside AmendProvision: quoted text, not structure
        self.seen_body = False

    def error(self, line: int, column: int, ja: str, en: str) -> LawXmlError:
        return LawXmlError(self.shown, line, column, ja, en)

    def events(self, stream: IO[bytes]) -> Iterator[tuple[str, etree._Element]]:
        parser = etree.iterparse(
            stream,
            events=("start", "end"),
            resolve_entities=False,
            load_dtd=False,
            no_network=True,
            remove_comments=True,
            remove_pis=True,
        )
        try:
            yield from parser
        except etree.XMLSyntaxError as exc:
            line, column = (max(1, int(n or 0)) for n in exc.position)  # 1-based, as lxml says in the message
            message = str(exc.msg or exc)
            if "UTF-8" in message or "encoding" in message.lower():
                ja = f"UTF-8 として読めないバイトがあります。文字コードが違うか、途中で切れています ({message})"
            elif "end of data" in message.lower() or "premature" in message.lower():
                ja = f"XML が途中で終わっています ({message})"
            else:
                ja = f"XML として正しくありません ({message})"
            raise self.error(line, column, ja, f"not well-formed XML: {message}") from exc

    def read(self, stream: IO[bytes]) -> Law:
        root_seen = False
        not_law: LawXmlError | None = None
        for event, element in self.events(stream):
            if not_law is not None:  # read on: a syntax error (a file cut off after "<L") says more
                if event == "end":
                    self.release(element)
                continue
            if not root_seen:
                root_seen = True
                if element.tag != "Law":
                    not_law = self.error(
                        _line(element),
                        0,
                        f"法令XMLではありません (ルート要素が <{element.tag}> で、<Law> ではありません)",
                        f"not a law: the root element is <{element.tag}>, not <Law>",
                    )
                    continue
                self.law_type = element.get("LawType", "")
                if not self.law_id:
                    self.law_id = element.get("LawId", "")
            if event == "start":
                self.start(element)
            else:
                self.end(element)
        if not_law is not None:
            raise not_law
        if not root_seen:  # pragma: no cover - lxml reports an empty document as a syntax error first
            raise self.error(1, 1, "空のファイルです", "empty document")
        if not self.seen_body:
            raise self.error(
                1, 1, "法令XMLではありません (<LawBody> がありません)", "not a law: there is no <LawBody>"
            )
        if not LAW_ID.match(self.law_id):
            raise self.error(
                1,
                1,
                "法令IDが分かりません (ファイル名 {法令ID}_{日付}_{改正法令ID}.xml か Law@LawId が必要です)",
                "unknown law ID: name the file {LawId}_{date}_{amendId}.xml, or the XML must carry Law@LawId",
            )
        provisions = tuple(p for p in self.slots if p is not None)
        return Law(
            law_id=self.law_id,
            title=self.title,
            law_num=self.law_num,
            law_type=self.law_type,
            version=self.version,
            articles=self.articles,
            provisions=provisions,
        )

    def start(self, element: etree._Element) -> None:
        tag = element.tag
        if tag == "Sentence":
            self.sentence_depth += 1
        elif self.sentence_depth or not isinstance(tag, str):
            return
        elif tag == "AmendProvision":
            self.amend_depth += 1
        elif self.amend_depth:
            return
        elif tag == "LawBody":
            self.seen_body = True
        elif tag == "MainProvision":
            self.part = _Part("main", "main")
        elif tag == "SupplProvision":
            self.part = _Part("suppl", f"suppl[{element.get('AmendLawNum') or 'orig'}]")
        elif self.part is None:
            return
        elif tag == "Article":
            self.articles += 1
            self.article = _Article(element.get("Num", ""), element.get("Delete") == "true")
        elif tag in UNIT_TAGS or SUBITEM.match(tag):
            self.open_unit(element)

    def open_unit(self, element: etree._Element) -> None:
        tag = element.tag
        num = element.get("Num", "")
        if tag == "Paragraph":
            segment = f"p{num}"
        elif tag == "Item":
            segment = f"i{num}"
        else:
            level = SUBITEM.match(tag)
            segment = f"si{level[1] if level else ''}-{num}"
        deleted = element.get("Delete") == "true" or (self.units[-1].deleted if self.units else False)
        if self.article is not None and self.article.deleted:
            deleted = True
        self.units.append(_Unit(len(self.slots), segment, num, deleted))
        self.slots.append(None)

    def end(self, element: etree._Element) -> None:  # noqa: PLR0912 - one branch per element kind reads plainest
        tag = element.tag
        if tag == "Sentence":
            self.sentence_depth -= 1
            if not self.sentence_depth:
                self.add_sentence(element)
            return
        if self.sentence_depth or not isinstance(tag, str):
            return  # inside a sentence: its text is read with the sentence
        if tag == "AmendProvision":
            self.amend_depth -= 1
        elif self.amend_depth:
            self.keep_text(element)
            return  # quoted structure: its elements are read as text of the enclosing unit, cleared with it
        elif tag == "LawTitle":
            self.title = _text(element).strip(WHITESPACE)
        elif tag == "LawNum":
            self.law_num = _text(element).strip(WHITESPACE)
        elif tag in {"MainProvision", "SupplProvision"}:
            self.part = None
            self.article = None
        elif self.part is None:
            pass
        elif tag == "Article":
            self.article = None
        elif tag == "ArticleCaption" and self.article is not None and not self.units:
            self.article.caption = _text(element).strip(WHITESPACE)
        elif tag == "ArticleTitle" and self.article is not None and not self.units:
            self.article.title = _text(element).strip(WHITESPACE)
        elif tag == "ParagraphCaption" and self.units:
            self.units[-1].caption = _text(element).strip(WHITESPACE)
        elif tag in UNIT_TAGS or SUBITEM.match(tag):
            self.close_unit()
        else:
            self.keep_text(element)
        self.release(element)

    def add_sentence(self, element: etree._Element) -> None:
        if not self.units:
            return  # a sentence outside any paragraph (appendix tables, enact statements): not a provision
        text = _text(element).strip(WHITESPACE)
        parent = element.getparent()
        if parent is not None and parent.tag == "Column" and parent.get("Num", "1") != "1":
            first_in_column = element.getprevious() is None
            if first_in_column and text:
                text = "\u3000" + text
        self.units[-1].sentences.append(Sentence(text, ROLES.get(element.get("Function") or "", "")))
        if parent is None or parent.tag != "Column":
            self.release(element)

    def keep_text(self, element: etree._Element) -> None:
        """An element this parser does not read as structure: its own text (if any) belongs to the unit."""
        tag = element.tag
        if not self.units or tag in HEADING_TAGS or SUBITEM_TITLE.match(tag):
            return
        text = (element.text or "").strip(WHITESPACE)
        if text:
            self.units[-1].sentences.append(Sentence(text, ""))

    def close_unit(self) -> None:
        unit = self.units.pop()
        part = self.part
        if part is None:  # pragma: no cover - units are only opened inside a part
            return
        article = self.article
        segments = [part.label]
        if article is not None:
            segments.append(f"a{article.num}")
        segments.extend(u.segment for u in self.units)
        segments.append(unit.segment)
        address = "/".join(segments)
        seen = self.addresses.get(address, 0)
        self.addresses[address] = seen + 1
        if seen:  # a repeated number (rare, in old laws): keep every provision, the later ones marked
            address = f"{address}~{seen + 1}"
        paragraph_units = [u for u in [*self.units, unit] if u.segment.startswith("p")]
        items = tuple(u.num for u in [*self.units, unit] if not u.segment.startswith("p"))
        sentences = tuple(unit.sentences)
        text = "".join(s.text for s in sentences).strip(WHITESPACE + "\u3000")
        caption = unit.caption or next((u.caption for u in reversed(self.units) if u.caption), "")
        self.slots[unit.slot] = Provision(
            law_id=self.law_id,
            address=address,
            part=part.kind,
            article=article.num if article is not None else None,
            paragraph=paragraph_units[0].num if paragraph_units else None,
            items=items,
            caption=caption or (article.caption if article is not None else ""),
            title=article.title if article is not None else "",
            sentences=sentences,
            deleted=unit.deleted or text == DELETED_TEXT,
        )

    @staticmethod
    def release(element: etree._Element) -> None:
        """Free what has been read: the element's content and the siblings before it."""
        element.clear()
        parent = element.getparent()
        if parent is not None:
            while element.getprevious() is not None:
                del parent[0]

"""Pure rules of お知らせ: what a notice may contain and whom it may address. No I/O, no framework."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tsunagu.kernel.errors import InvalidInput
from tsunagu.kernel.identifiers import check_lg_code

MAX_TITLE = 200
MAX_BODY = 4000
MAX_LINK = 500
ALL = "all"


class Audience(StrEnum):
    PERSON = "person"  # one person, addressed by the sender's own 符号
    ALL = "all"  # everyone on the platform
    MUNICIPALITY = "municipality"  # the residents whose current address is in one municipality


@dataclass(frozen=True)
class Segment:
    """A segment audience: everyone, or the residents of one municipality (6-digit 地方公共団体コード)."""

    audience: Audience
    value: str | None = None


@dataclass(frozen=True)
class NoticeText:
    """The checked text of a notice, in Japanese and English (both required), and an optional link."""

    title_ja: str
    title_en: str
    body_ja: str
    body_en: str
    link: str | None = None

    @classmethod
    def of(
        cls, title_ja: str, title_en: str, body_ja: str, body_en: str, link: str | None = None
    ) -> NoticeText:
        """Check and normalise (surrounding white space removed, line endings as ``\\n``); raise
        :class:`InvalidInput` naming the field otherwise."""
        return cls(
            _text("title_ja", title_ja, MAX_TITLE, "件名（日本語）", single_line=True),
            _text("title_en", title_en, MAX_TITLE, "件名（英語）", single_line=True),
            _text("body_ja", body_ja, MAX_BODY, "本文（日本語）"),
            _text("body_en", body_en, MAX_BODY, "本文（英語）"),
            _link(link),
        )


def _text(field: str, value: str, limit: int, label_ja: str, *, single_line: bool = False) -> str:
    text = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise InvalidInput(f"{field} must not be empty.", ja=f"{label_ja}を入力してください。", field=field)
    if len(text) > limit:
        raise InvalidInput(
            f"{field} must be at most {limit} characters (got {len(text)}).",
            ja=f"{label_ja}は{limit}文字以内にしてください（{len(text)}文字）。",
            field=field,
        )
    if single_line and "\n" in text:
        raise InvalidInput(f"{field} must be one line.", ja=f"{label_ja}は1行にしてください。", field=field)
    if any(ord(c) < 0x20 and c not in "\n\t" for c in text):
        raise InvalidInput(
            f"{field} contains a control character.", ja=f"{label_ja}に制御文字があります。", field=field
        )
    return text


def _link(link: str | None) -> str | None:
    """An optional link: an ``https://`` URL or a path on this site (``/…``); nothing that a browser would run."""
    if link is None or not link.strip():
        return None
    url = link.strip()
    if len(url) > MAX_LINK:
        raise InvalidInput(
            f"link must be at most {MAX_LINK} characters.",
            ja=f"リンクは{MAX_LINK}文字以内にしてください。",
            field="link",
        )
    on_site = url.startswith("/") and not url.startswith("//")
    https = url.lower().startswith("https://") and len(url) > len("https://")
    if not (on_site or https) or any(c.isspace() or ord(c) < 0x20 or c == "\\" for c in url):
        raise InvalidInput(
            "link must be an https:// URL or a path on this site starting with /.",
            ja="リンクは https:// で始まるURLか、/ で始まるこのサイトのパスにしてください。",
            field="link",
        )
    return url


def parse_segment(value: str) -> Segment:
    """``"all"`` → everyone; a 6-digit municipality code (check digit verified) → its residents."""
    text = value.strip()
    if text.lower() == ALL:
        return Segment(Audience.ALL)
    return Segment(Audience.MUNICIPALITY, check_lg_code(text))

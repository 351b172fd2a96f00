"""Small synthetic law XML documents for the law-review tests: a law is a list of article texts (one paragraph
each), so a test can write a version, change one sentence and write the next version."""

from __future__ import annotations

from html import escape
from pathlib import Path

LAW_ID = "405AC0000000999"  # not a real law
TITLE = "試験規制法"
# Sentences the detector reports (the detector's own unit-test examples); which category each gives is read from the
# detector in the tests, never hard-coded, since the rules are being tuned.
EYES = "管理者は、設備の状態を目視により確認しなければならない。"
POSTED = "事業者は、料金表を営業所において公衆の見やすいように掲示しなければならない。"
PAPER = "販売業者は、契約を締結したときは、遅滞なく、その内容を記載した書面を交付しなければならない。"
PLAIN = "この法律は、公布の日から起算して一年を経過した日から施行する。"
ELECTRONIC = "事業者は、書面の交付に代えて、電磁的方法により提供することができる。"


def law_xml(articles: list[str], *, law_id: str = LAW_ID, title: str = TITLE) -> bytes:
    """A law whose article ``n`` (1-based) has one paragraph with ``articles[n-1]`` as its sentence."""
    body = "".join(
        f'<Article Num="{n}"><ArticleTitle>第{n}条</ArticleTitle><Paragraph Num="1"><ParagraphNum/>'
        f"<ParagraphSentence><Sentence>{escape(text)}</Sentence></ParagraphSentence></Paragraph></Article>"
        for n, text in enumerate(articles, start=1)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<Law Era="Heisei" Lang="ja" LawType="Act" Num="999">'
        f"<LawNum>平成五年法律第九百九十九号</LawNum><LawBody><LawTitle>{escape(title)}</LawTitle>"
        f"<MainProvision>{body}</MainProvision></LawBody></Law>\n"
    ).encode()


def file_name(date: str, amend: str = "000000000000000", *, law_id: str = LAW_ID) -> str:
    """``{LawId}_{date}_{amend}.xml``: the version is ``{date}_{amend}``."""
    return f"{law_id}_{date}_{amend}.xml"


def write(folder: Path, date: str, articles: list[str], **kwargs: str) -> Path:
    law_id = kwargs.get("law_id", LAW_ID)
    path = folder / file_name(date, law_id=law_id)
    path.write_bytes(law_xml(articles, **kwargs))
    return path


BROKEN = b'<?xml version="1.0" encoding="utf-8"?>\n<Law LawType="Act">\n<LawBody><LawTitle>\xe5\x88\x87'

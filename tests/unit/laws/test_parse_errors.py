"""Bad input to the law XML parser: malformed, truncated, non-UTF-8 and non-Law documents give a LawXmlError naming
the file, line and column (never another exception, Hypothesis: any truncation); entities are never expanded."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tsunagu.laws.core.model import LawXmlError
from tsunagu.laws.core.xmlparse import parse_law

GOOD = (
    '<?xml version="1.0" encoding="utf-8"?>\n<Law LawId="405AC0000000088" LawType="Act">\n'
    "<LawNum>平成五年法律第八十八号</LawNum><LawBody><LawTitle>試験法</LawTitle>\n<MainProvision>"
    '<Article Num="1"><ArticleTitle>第一条</ArticleTitle><Paragraph Num="1"><ParagraphNum/>\n'
    '<ParagraphSentence><Sentence Num="1" Function="main">申請書を<Ruby>提<Rt>てい</Rt></Ruby>出する。</Sentence>'
    '<Sentence Num="2" Function="proviso">ただし、電磁的方法による。</Sentence></ParagraphSentence></Paragraph>'
    "</Article></MainProvision>\n</LawBody></Law>\n"
)


def refused(source: bytes | Path, name: str = "bad.xml") -> LawXmlError:
    with pytest.raises(LawXmlError) as caught:
        parse_law(source, name=name) if isinstance(source, bytes) else parse_law(source)
    return caught.value


def test_the_good_document_parses() -> None:
    law = parse_law(GOOD.encode())
    (provision,) = law.provisions
    assert provision.text == "申請書を提出する。ただし、電磁的方法による。"


def test_malformed_xml_names_file_line_and_column() -> None:
    error = refused(GOOD.replace("</Paragraph>", "</Paragrap>").encode())
    assert error.file == "bad.xml"
    assert error.line == 5
    assert error.column > 1
    assert "mismatch" in error.message_en
    assert str(error).startswith("bad.xml:5:")
    assert error.message_ja.startswith("XML として正しくありません")


def test_truncated_file_is_refused_with_its_position(tmp_path: Path) -> None:
    path = tmp_path / "405AC0000000088_20240401_504AC0100000052.xml"
    data = GOOD.encode()[:-40]
    path.write_bytes(data)
    error = refused(path)
    assert error.file == str(path)
    assert error.line == data.count(b"\n") + 1  # where the data stops


def test_non_utf8_bytes_are_refused() -> None:
    error = refused(GOOD.encode("cp932"))  # declared UTF-8, written in Shift_JIS
    assert error.line == 3  # the first Japanese text, in <LawNum>
    assert "UTF-8" in error.message_ja


def test_a_document_that_is_not_a_law_is_refused() -> None:
    error = refused(b'<?xml version="1.0"?>\n<html><body>law</body></html>')
    assert error.line == 2
    assert "<html>" in error.message_en
    assert "法令XMLではありません" in error.message_ja
    assert "LawBody" in refused(b'<Law LawId="405AC0000000088"><LawNum>x</LawNum></Law>').message_en


def test_empty_file_and_missing_file() -> None:
    error = refused(b"")
    assert (error.line, error.column) == (1, 1)
    missing = refused(Path("/nonexistent/405AC0000000088_20240401_504AC0100000052.xml"))
    assert missing.line == 0


def test_unknown_law_id_is_refused_rather_than_guessed() -> None:
    error = refused(GOOD.replace(' LawId="405AC0000000088"', "").encode(), name="draft.xml")
    assert "law ID" in error.message_en
    assert parse_law(
        GOOD.replace(' LawId="405AC0000000088"', "").encode(), law_id="405AC0000000088"
    ).provisions


def test_entities_are_not_expanded() -> None:
    xxe = GOOD.replace(
        '<?xml version="1.0" encoding="utf-8"?>\n',
        '<?xml version="1.0" encoding="utf-8"?><!DOCTYPE Law [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
    ).replace("試験法", "&x;")
    law = parse_law(xxe.encode())
    assert "root" not in law.title


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.integers(min_value=0, max_value=len(GOOD.encode()) - 1))
def test_any_truncation_is_a_law_xml_error_or_a_law(cut: int) -> None:
    data = GOOD.encode()[:cut]
    if len(data.rstrip()) == len(GOOD.encode().rstrip()):
        assert parse_law(data).provisions  # only the final newline was cut
        return
    with pytest.raises(LawXmlError) as caught:
        parse_law(data, name="cut.xml")
    assert caught.value.file == "cut.xml"
    assert caught.value.line >= 1
    assert caught.value.column >= 1  # a syntax error, never a misleading "not a law" for a cut-off <Law


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200), st.integers(min_value=0, max_value=len(GOOD.encode())))
def test_corrupted_bytes_never_crash_with_anything_else(noise: bytes, at: int) -> None:
    data = GOOD.encode()
    try:
        parse_law(data[:at] + noise + data[at:], name="noise.xml")
    except LawXmlError as error:
        file = error.file
    else:
        file = "noise.xml"
    assert file == "noise.xml"

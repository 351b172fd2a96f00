"""The law XML parser on the 42 real files (article counts of the issue's reference, stable addresses across the 14
versions of 不正競争防止法, branch numbers, 本文/ただし書, ruby) and on small synthetic documents (structure, unknown
elements and attributes, tables, columns, quoted amendments, deletions), and the diff between versions."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from tsunagu.laws.core.diff import DifferentLaws, diff
from tsunagu.laws.core.model import Law, Provision
from tsunagu.laws.core.xmlparse import parse_law

LAWS = Path(__file__).resolve().parents[4] / "shared" / "data" / "laws"
FILES = sorted([*LAWS.glob("xml/*.xml"), *LAWS.glob("xml-history/*.xml")])
needs_data = pytest.mark.skipif(not FILES, reason="../shared/data/laws is not here")
UCPA = "405AC0000000047"  # 不正競争防止法: 14 versions in xml-history


@pytest.fixture(scope="module")
def laws() -> dict[str, Law]:
    return {f"{f.parent.name}/{f.name}": parse_law(f) for f in FILES}


def by_address(law: Law) -> dict[str, Provision]:
    return {p.address: p for p in law.provisions}


def doc(body: str, attrs: str = 'LawId="405AC0000000088" LawType="Act"') -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<Law {attrs}><LawNum>平成五年法律第八十八号</LawNum>'
        f"<LawBody><LawTitle>試験法</LawTitle>{body}</LawBody></Law>"
    ).encode()


@needs_data
def test_all_42_files_parse_with_unique_addresses(laws: dict[str, Law]) -> None:
    assert len(laws) == 42
    for name, law in laws.items():
        stem = name.split("/")[1].removesuffix(".xml")
        assert stem.startswith(law.law_id)
        assert law.title
        assert law.version == stem.split("_", 1)[1]
        addresses = [p.address for p in law.provisions]
        assert len(addresses) == len(set(addresses)), name
        assert all(p.law_id == law.law_id for p in law.provisions)


@needs_data
@pytest.mark.parametrize(
    ("title", "articles"),
    [("特許法", 462), ("電気事業法", 600), ("航空法", 531), ("行政手続法", 69), ("原子力基本法", 45)],
)
def test_article_counts_match_the_reference_counting_supplementary_provisions(
    laws: dict[str, Law], title: str, articles: int
) -> None:
    current = [law for name, law in laws.items() if law.title == title and name.startswith("xml/")]
    assert len(current) == 1
    law = current[0]
    assert law.articles == articles
    main_articles = {p.article for p in law.provisions if p.part == "main" and p.article}
    assert 0 < len(main_articles) < articles  # supplementary articles are part of the count


@needs_data
def test_addresses_are_stable_across_the_14_versions(laws: dict[str, Law]) -> None:
    versions = [law for name, law in sorted(laws.items()) if name.startswith(f"xml-history/{UCPA}")]
    assert len(versions) == 14
    for old, new in itertools.pairwise(versions):
        before, after = by_address(old), by_address(new)
        # An article whose text is the same in both versions keeps every address.
        for article in {p.article for p in old.provisions if p.part == "main"}:
            old_units = {a: p.text for a, p in before.items() if p.part == "main" and p.article == article}
            new_units = {a: p.text for a, p in after.items() if p.part == "main" and p.article == article}
            if sorted(old_units.values()) == sorted(new_units.values()):
                assert old_units == new_units, (new.version, article)
        # The original law's own 附則 and an amendment's 附則 keep their addresses once added.
        assert {a for a in before if a.startswith("suppl[")} <= set(after) | {
            p.address for p in diff(old, new).removed
        }
    first, last = by_address(versions[0]), by_address(versions[-1])
    assert first["main/a1/p1"].text == last["main/a1/p1"].text
    assert first["main/a1/p1"].caption == "（目的）"


@needs_data
def test_branch_numbers_articles_titles_and_captions(laws: dict[str, Law]) -> None:
    law = laws["xml/405AC0000000088_20240401_504AC0100000052.xml"]
    provision = by_address(law)["main/a36_2/p1"]
    assert provision.article == "36_2"
    assert provision.title == "第三十六条の二"
    assert provision.caption == "（行政指導の中止等の求め）"
    assert provision.paragraph == "1"
    assert provision.items == ()
    definitions = by_address(law)["main/a2/p1/i4/si1-2"]
    assert definitions.items == ("4", "2")
    assert definitions.text.startswith("申請により求められた許認可等を拒否する処分")


@needs_data
def test_main_text_and_proviso_roles(laws: dict[str, Law]) -> None:
    item = by_address(laws["xml/405AC0000000088_20240401_504AC0100000052.xml"])["main/a2/p1/i4"]
    roles = [s.role for s in item.sentences]
    assert roles == ["", "main", "proviso"]  # the term column has no role; then 本文 and ただし書
    assert item.sentences[2].text == "ただし、次のいずれかに該当するものを除く。"
    assert item.text.startswith("不利益処分\u3000行政庁が、")  # the definition's columns do not run together


@needs_data
def test_ruby_keeps_the_base_text_not_the_reading(laws: dict[str, Law]) -> None:
    provision = by_address(laws["xml/327AC0000000231_20240401_505AC0000000063.xml"])["main/a2/p8"]
    assert "勾配" in provision.text
    assert "勾こう配" not in provision.text


@needs_data
def test_deleted_articles_are_marked(laws: dict[str, Law]) -> None:
    patent = by_address(laws["xml/334AC0000000121_20260524_504AC0000000048.xml"])
    assert patent["main/a10/p1"].deleted
    assert patent["main/a10/p1"].text == "削除"
    assert not patent["main/a17_2/p1"].deleted


@needs_data
def test_supplementary_provisions_are_addressed_by_amending_law_number(laws: dict[str, Law]) -> None:
    law = by_address(laws["xml/405AC0000000088_20240401_504AC0100000052.xml"])
    assert law["suppl[orig]/p1"].part == "suppl"
    assert law["suppl[orig]/p1"].article is None
    assert law["suppl[平成一一年一二月八日法律第一五一号]/a1/p1"].article == "1"


@needs_data
def test_diff_between_versions(laws: dict[str, Law]) -> None:
    old = laws["xml-history/405AC0000000047_20240613_505AC0000000051.xml"]
    new = laws["xml-history/405AC0000000047_20250616_504AC0000000068.xml"]
    result = diff(old, new)
    assert not result.added
    assert not result.removed
    assert [c.new.address for c in result.changed] == ["main/a21/p1", "main/a21/p3", "main/a21/p4"]
    assert all("懲役" in c.old.text and "拘禁刑" in c.new.text for c in result.changed)
    assert diff(new, new).unchanged
    back = diff(new, old)
    assert [c.new.address for c in back.changed] == ["main/a21/p1", "main/a21/p3", "main/a21/p4"]
    with pytest.raises(DifferentLaws):
        diff(old, laws["xml/405AC0000000088_20240401_504AC0100000052.xml"])


def test_structure_order_and_addresses_of_a_small_law() -> None:
    law = parse_law(
        doc(
            '<MainProvision><Chapter Num="1"><ChapterTitle>第一章</ChapterTitle>'
            '<Article Num="4_2"><ArticleCaption>（定義）</ArticleCaption><ArticleTitle>第四条の二</ArticleTitle>'
            '<Paragraph Num="1"><ParagraphNum/><ParagraphSentence><Sentence Num="1">次に掲げる。</Sentence>'
            '</ParagraphSentence><Item Num="3"><ItemTitle>三</ItemTitle><ItemSentence><Sentence>品目</Sentence>'
            '</ItemSentence><Subitem1 Num="1"><Subitem1Title>イ</Subitem1Title><Subitem1Sentence><Sentence>'
            '甲</Sentence></Subitem1Sentence><Subitem2 Num="2"><Subitem2Title>（２）</Subitem2Title>'
            "<Subitem2Sentence><Sentence>乙</Sentence></Subitem2Sentence></Subitem2></Subitem1></Item>"
            '</Paragraph><Paragraph Num="2"><ParagraphNum>２</ParagraphNum><ParagraphSentence>'
            '<Sentence Num="1" Function="main">原則とする。</Sentence><Sentence Num="2" Function="proviso">'
            "ただし、例外とする。</Sentence></ParagraphSentence></Paragraph></Article></Chapter></MainProvision>"
            '<SupplProvision><SupplProvisionLabel>附則</SupplProvisionLabel><Paragraph Num="1">'
            "<ParagraphCaption>（施行期日）</ParagraphCaption><ParagraphNum/><ParagraphSentence><Sentence>"
            "公布の日から施行する。</Sentence></ParagraphSentence></Paragraph></SupplProvision>"
            '<SupplProvision AmendLawNum="令和元年法律第一号"><SupplProvisionLabel>附則</SupplProvisionLabel>'
            '<Article Num="1"><ArticleTitle>第一条</ArticleTitle><Paragraph Num="1"><ParagraphNum/>'
            "<ParagraphSentence><Sentence>削除</Sentence></ParagraphSentence></Paragraph></Article>"
            "</SupplProvision>"
        )
    )
    assert law.law_id == "405AC0000000088"
    assert law.title == "試験法"
    assert law.law_num == "平成五年法律第八十八号"
    assert law.law_type == "Act"
    assert law.version == ""
    assert law.articles == 2
    assert [p.address for p in law.provisions] == [
        "main/a4_2/p1",
        "main/a4_2/p1/i3",
        "main/a4_2/p1/i3/si1-1",
        "main/a4_2/p1/i3/si1-1/si2-2",
        "main/a4_2/p2",
        "suppl[orig]/p1",
        "suppl[令和元年法律第一号]/a1/p1",
    ]
    p = by_address(law)
    assert p["main/a4_2/p1"].text == "次に掲げる。"  # the paragraph's own sentence, not its items'
    assert p["main/a4_2/p1/i3/si1-1/si2-2"].items == ("3", "1", "2")
    assert p["main/a4_2/p1/i3"].caption == "（定義）"
    assert [(s.role, s.text) for s in p["main/a4_2/p2"].sentences] == [
        ("main", "原則とする。"),
        ("proviso", "ただし、例外とする。"),
    ]
    assert p["suppl[orig]/p1"].caption == "（施行期日）"
    assert p["suppl[orig]/p1"].title == ""
    assert p["suppl[令和元年法律第一号]/a1/p1"].deleted
    assert not p["main/a4_2/p2"].deleted


def test_unknown_elements_and_api_v2_attributes_are_tolerated() -> None:
    law = parse_law(
        doc(
            '<MainProvision Extract="false" Future="x"><Article Num="1" Delete="false" Hide="false" New="1">'
            '<ArticleTitle>第一条</ArticleTitle><Paragraph Num="1"><ParagraphNum/><ParagraphSentence>'
            "<Sentence>本文に<Emphasis>未知の</Emphasis>要素。</Sentence></ParagraphSentence>"
            "<Annotation>注記の文</Annotation></Paragraph></Article></MainProvision>",
            attrs='Category="工業" Mission="New" Status="UnEnforced" LawType="Act" LawId="405AC0000000088"',
        ),
        name="x.xml",
    )
    (provision,) = law.provisions
    assert provision.text == "本文に未知の要素。注記の文"  # unknown elements' text stays in the provision


def test_table_and_list_text_belongs_to_its_item_and_amendments_are_text() -> None:
    law = parse_law(
        doc(
            '<MainProvision><Article Num="1"><ArticleTitle>第一条</ArticleTitle><Paragraph Num="1">'
            "<ParagraphNum/><ParagraphSentence><Sentence>次の表のとおり。</Sentence></ParagraphSentence>"
            '<Item Num="1"><ItemTitle>一</ItemTitle><ItemSentence><Sentence>品目</Sentence></ItemSentence>'
            "<TableStruct><Table><TableRow><TableColumn><Sentence>目視</Sentence></TableColumn>"
            "<TableColumn><Sentence>書面</Sentence></TableColumn></TableRow></Table></TableStruct>"
            "<List><ListSentence><Sentence>一覧の文</Sentence></ListSentence></List></Item></Paragraph>"
            '<Paragraph Num="2"><ParagraphNum>２</ParagraphNum><ParagraphSentence><Sentence>次のように改める。'
            '</Sentence></ParagraphSentence><AmendProvision><NewProvision><Article Num="9"><ArticleTitle>第九条'
            '</ArticleTitle><Paragraph Num="1"><ParagraphSentence><Sentence>引用の文</Sentence>'
            "</ParagraphSentence></Paragraph></Article></NewProvision></AmendProvision></Paragraph>"
            "</Article></MainProvision>"
        )
    )
    p = by_address(law)
    assert list(p) == ["main/a1/p1", "main/a1/p1/i1", "main/a1/p2"]
    assert p["main/a1/p1/i1"].text == "品目目視書面一覧の文"
    assert p["main/a1/p2"].text == "次のように改める。引用の文"
    assert law.articles == 1  # the quoted article is not one of this law's


def test_law_id_from_the_file_name_wins_and_version_comes_from_it(tmp_path: Path) -> None:
    path = tmp_path / "405AC0000000047_20260524_504AC0000000048.xml"
    path.write_bytes(doc("<MainProvision/>", attrs='LawType="Act"'))
    law = parse_law(path)
    assert (law.law_id, law.version) == ("405AC0000000047", "20260524_504AC0000000048")
    assert parse_law(path, law_id="405AC0000000088").law_id == "405AC0000000088"
    assert parse_law(doc("<MainProvision/>")).law_id == "405AC0000000088"  # Law@LawId

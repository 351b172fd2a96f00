"""The detector on short synthetic sentences (written for these tests, not copied from a law): each category found
with its evidence span, and each exclusion keeping a look-alike out."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tsunagu.laws.core.detect import article_key, detect, detect_law
from tsunagu.laws.core.model import Provision, Sentence

LAW = "999AC0000000001"


def provision(text: str, address: str = "main/a1/p1", *, deleted: bool = False) -> Provision:
    return Provision(
        law_id=LAW,
        address=address,
        part="main",
        article="1",
        paragraph="1",
        items=(),
        caption="",
        title="第一条",
        sentences=(Sentence(text, "main"),),
        deleted=deleted,
    )


def categories(text: str) -> set[str]:
    return {f.category for f in detect(provision(text))}


POSITIVES = [
    ("mokushi", "管理者は、設備の状態を目視により確認しなければならない。", "目視"),
    ("mokushi", "事業者は、毎日一回以上区域内を巡視させなければならない。", "巡視"),
    ("jitchi", "大臣は、必要があると認めるときは、協会に立入検査を行わせることができる。", "立入検査"),
    ("taimen", "認定を受けた養成課程を修了した者", "養成課程"),
    ("shomen", "登録は、申請者に登録証を交付することによつて行う。", "登録証を交付することによつて行う"),
    (
        "mokushi",
        "設置者は、工事が完成したときは、当該設備について大臣の検査を受けなければならない。",
        "大臣の検査を受けなければ",
    ),
    (
        "jitchi",
        "大臣は、その職員に、事業者の事務所に立ち入り、帳簿その他の物件を検査させることができる。",
        "立ち入り、",
    ),
    (
        "teiki",
        "設置者は、規則で定めるところにより、定期に、当該設備について検査を行わなければならない。",
        "定期に",
    ),
    ("teiki", "所有者は、省令で定める期間ごとに、大臣が行う検査を受けなければならない。", "期間ごとに"),
    ("jochu", "事業者は、作業場ごとに、専任の監督者を置かなければならない。", "専任の"),
    ("jochu", "設置者は、作業の時間中、保安係員を現場に常駐させなければならない。", "常駐"),
    ("taimen", "監督者は、三年ごとに、大臣の登録を受けた者が行う講習を受けなければならない。", "講習"),
    ("keiji", "事業者は、料金表を営業所において公衆の見やすいように掲示しなければならない。", "掲示"),
    ("etsuran", "協会は、会員名簿を事務所に備えて置き、公衆の閲覧に供しなければならない。", "閲覧"),
    ("etsuran", "何人も、大臣に対し、登録簿の縦覧を請求することができる。", "縦覧"),
    ("media", "申請書の提出は、フレキシブルディスクを提出して行うことができる。", "フレキシブルディスク"),
    ("media", "届出は、CD-ROMに記録して提出しなければならない。", "CD-ROM"),
    (
        "shomen",
        "販売業者は、契約を締結したときは、遅滞なく、その内容を記載した書面を交付しなければならない。",
        "書面を交付",
    ),
    (
        "shomen",
        "大臣は、許可を取り消したときは、理由を記載した文書をその事業者に送付しなければならない。",
        "文書をその事業者に送付しなければ",
    ),
    (
        "shomen",
        "大臣は、登録を拒否したときは、文書によりその理由を付して通知しなければならない。",
        "文書によりその理由を付して通知",
    ),
]


@pytest.mark.parametrize(("category", "text", "matched"), POSITIVES)
def test_each_category_is_found_with_its_evidence_span(category: str, text: str, matched: str) -> None:
    found = [f for f in detect(provision(text)) if f.category == category]
    assert len(found) == 1
    finding = found[0]
    assert finding.matched == matched
    assert text[finding.start : finding.end] == matched
    assert (finding.law_id, finding.address) == (LAW, "main/a1/p1")
    assert 0 < finding.confidence <= 1
    assert finding.technology
    assert matched in finding.evidence(text)


NEGATIVES = [
    ("definition", "この法律において「定期検査」とは、毎年一回以上行う検査をいう。", "teiki"),
    ("deleted text", "削除", "mokushi"),
    (
        "reading replacement",
        "前条の規定を準用する。この場合において、「掲示」とあるのは「公表」と読み替える。",
        "keiji",
    ),
    ("penalty", "第十条の規定に違反して、料金を営業所に掲示しなかつたとき。", "keiji"),
    (
        "transitional",
        "施行日前に旧法の規定により営業所において掲示している料金表は、新法の規定により掲示したものとみなす。",
        "keiji",
    ),
    ("fee table item", "第五条の規定により登録簿の閲覧を請求する者", "etsuran"),
    (
        "online publication",
        "大臣は、計画を電気通信回線に接続して行う自動公衆送信により公衆の閲覧に供しなければならない。",
        "etsuran",
    ),
    ("already electronic", "事業者は、書面の交付に代えて、電磁的方法により提供することができる。", "shomen"),
    ("a ban on entry", "何人も、検査を受けた後でなければ、保安区域に立ち入つてはならない。", "jitchi"),
    (
        "a land survey",
        "事業者は、測量のため必要があるときは、他人の土地に立ち入り、測量することができる。",
        "jitchi",
    ),
    (
        "scheduled, not periodic",
        "定期航空運送事業を経営しようとする者は、大臣の許可を受けなければならない。",
        "teiki",
    ),
    ("an employee count", "常時使用する従業員の数が二十人以下の事業者は、この限りでない。", "jochu"),
    (
        "examiners, not a site post",
        "指定機関は、試験員を要件を備える者のうちから選任しなければならない。",
        "jochu",
    ),
    (
        "course body machinery",
        "登録講習機関は、講習事務の開始前に、講習事務規程を定めなければならない。",
        "taimen",
    ),
    (
        "a course body's accounts",
        "講習を受けようとする者その他の利害関係人は、業務時間内は、いつでも、次に掲げる請求をすることができる。",
        "taimen",
    ),
    (
        "litigation secrecy",
        "当事者から秘密記載部分の閲覧等の請求があつたときは、その旨を通知しなければならない。",
        "etsuran",
    ),
    ("a generic recording medium", "営業秘密が記録された記録媒体を領得する行為", "media"),
    (
        "periodic, not one-off",
        "設置者は、定期に、当該設備について検査を行い、その結果を記録しなければならない。",
        "mokushi",
    ),
    (
        "a passenger screening",
        "何人も、保安のための検査を受けた後でなければ、航空機に搭乗してはならない。",
        "mokushi",
    ),
    ("a penalty for skipping it", "第五条の規定による検査を受けないで設備を使用したとき。", "mokushi"),
    (
        "inspection companion clause",
        "前条第五項の規定は、前項の規定による立入検査について準用する。",
        "jitchi",
    ),
    (
        "an inspector's ID card",
        "立入検査をする職員は、その身分を示す証明書を携帯しなければならない。",
        "jitchi",
    ),
    ("a practical test", "試験は、学科試験及び実地試験とする。", "jitchi"),
]


@pytest.mark.parametrize(("why", "text", "category"), NEGATIVES, ids=[n[0] for n in NEGATIVES])
def test_exclusions_keep_look_alikes_out(why: str, text: str, category: str) -> None:
    assert category not in categories(text), why


def test_a_deleted_provision_yields_nothing_even_with_a_keyword() -> None:
    assert detect(provision("設備を目視により点検しなければならない。", deleted=True)) == []


def test_one_finding_per_category_with_the_highest_confidence() -> None:
    text = "管理者は、区域を巡視し、設備を目視により確認しなければならない。"
    (finding,) = detect(provision(text))
    assert (finding.category, finding.matched) == ("mokushi", "目視")  # 目視 0.9 beats 巡視 0.75


def test_a_paper_duty_whose_article_allows_electronic_delivery_is_not_reported() -> None:
    paper = provision("事業者は、契約の内容を記載した書面を交付しなければならない。", "main/a2/p1")
    electronic = provision(
        "事業者は、前項の書面の交付に代えて、相手方の承諾を得て、電磁的方法により提供することができる。",
        "main/a2/p2",
    )
    other_article = provision("大臣は、登録をしたときは、登録証明書を交付しなければならない。", "main/a3/p1")
    assert {f.category for f in detect(paper)} == {"shomen"}  # alone, it is a paper duty
    found = detect_law([paper, electronic, other_article])
    assert [(f.address, f.category) for f in found] == [("main/a3/p1", "shomen")]


def test_article_key() -> None:
    assert article_key("main/a4_2/p1/i3/si1-2") == "main/a4_2"
    assert article_key("suppl[orig]/a1/p2") == "suppl[orig]/a1"
    assert article_key("main/p1") == "main"


@given(st.text(alphabet="条項号目視書面掲示閲覧講習定期の、。「」abc0123 ", max_size=80))
def test_every_span_indexes_the_text(text: str) -> None:
    for finding in detect(provision(text)):
        assert text[finding.start : finding.end] == finding.matched
        assert 0 <= finding.start < finding.end <= len(text)

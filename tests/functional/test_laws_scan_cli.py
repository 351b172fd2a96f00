"""``tsunagu laws scan`` and ``tsunagu laws evaluate`` as a person or a script would run them: a synthetic law in a
temporary folder (text, JSON, CSV with a BOM, escaped HTML, a category filter, a bad file among good ones) and the
packaged labelled set on the real corpus when ../shared/data/laws is here."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tsunagu.cli import build

LAWS = Path(__file__).resolve().parents[3] / "shared" / "data" / "laws"


def _article(num: int, *sentences: str) -> str:
    paragraphs = "".join(
        f'<Paragraph Num="{i}"><ParagraphNum/><ParagraphSentence><Sentence>{text}</Sentence>'
        "</ParagraphSentence></Paragraph>"
        for i, text in enumerate(sentences, start=1)
    )
    return f'<Article Num="{num}"><ArticleTitle>第{num}条</ArticleTitle>{paragraphs}</Article>\n'


SYNTHETIC = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<Law LawId="999AC0000000001" LawType="Act" Era="Reiwa" Year="8" Num="1" Lang="ja">'
    "<LawNum>令和八年法律第一号</LawNum><LawBody><LawTitle>試験用保安法</LawTitle><MainProvision>\n"
    + _article(1, "事業者は、料金表を営業所において公衆の見やすいように掲示しなければならない。")
    + _article(
        2,
        "設置者は、定期に、当該設備について検査を行わなければならない。",
        "届出は、&lt;b&gt;CD-ROM&lt;/b&gt;に記録して提出しなければならない。",
    )
    + _article(3, "この法律は、公布の日から施行する。")
    + "</MainProvision></LawBody></Law>\n"
)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(build(), ["laws", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "999AC0000000001_20260401_000000000000000.xml").write_text(SYNTHETIC, encoding="utf-8")
    return tmp_path


def scan_json(*args: str) -> dict[str, Any]:
    code, out, _ = run("scan", *args, "--format", "json")
    assert code == 0, out
    data: dict[str, Any] = json.loads(out)
    return data


def test_scan_a_folder_prints_law_address_category_evidence_and_confidence(folder: Path) -> None:
    code, out, _ = run("scan", str(folder))
    assert code == 0
    assert "999AC0000000001  main/a1/p1  keiji (書面掲示)" in out
    assert "main/a2/p1  teiki" in out
    assert "3 findings" in out


def test_scan_json_has_spans_and_technology(folder: Path) -> None:
    data = scan_json(str(folder))
    assert data["ok"]
    assert data["scanned"] == 1
    found = {(f["address"], f["category"]): f for f in data["findings"]}
    assert set(found) == {("main/a1/p1", "keiji"), ("main/a2/p1", "teiki"), ("main/a2/p2", "media")}
    media = found[("main/a2/p2", "media")]
    assert (media["matched"], media["title"]) == ("CD-ROM", "試験用保安法")
    assert media["end"] - media["start"] == len("CD-ROM")
    assert media["technology"].startswith("electronic submission")


def test_scan_filters_by_category(folder: Path) -> None:
    data = scan_json(str(folder), "--category", "teiki", "--category", "media")
    assert sorted(f["category"] for f in data["findings"]) == ["media", "teiki"]
    code, _, err = run("scan", str(folder), "--category", "kanban")
    assert code == 2
    assert "unknown category kanban" in err


def test_scan_csv_starts_with_a_bom_for_excel(folder: Path) -> None:
    code, out, _ = run("scan", str(folder), "--format", "csv")
    assert code == 0
    assert out.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(out.removeprefix("\ufeff"))))
    assert [r["category"] for r in rows] == ["keiji", "teiki", "media"]
    assert rows[0]["category_ja"] == "書面掲示"


def test_scan_html_escapes_the_law_text(folder: Path) -> None:
    code, out, _ = run("scan", str(folder), "--format", "html")
    assert code == 0
    assert out.startswith("<!DOCTYPE html>")
    assert "<b>CD-ROM</b>" not in out
    assert "&lt;b&gt;CD-ROM&lt;/b&gt;" in out
    assert "<html lang='ja'>" in out


def test_a_bad_file_is_reported_and_the_others_still_scanned(folder: Path) -> None:
    (folder / "broken.xml").write_text("<Law><LawBody>", encoding="utf-8")
    code, out, err = run("scan", str(folder), "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert (data["files"], data["scanned"], len(data["findings"])) == (2, 1, 3)
    assert data["errors"][0]["file"].endswith("broken.xml")
    assert "broken.xml" in err.replace("\n", "")  # the error console wraps at 80 columns


def test_scan_with_a_broken_rules_file_names_the_key(folder: Path) -> None:
    rules = folder / "rules.toml"
    rules.write_text("version = 2\n", encoding="utf-8")
    code, _, err = run("scan", str(folder), "--rules", str(rules))
    assert code == 2
    assert "version" in err


def test_evaluate_a_small_labels_file_on_a_folder(folder: Path) -> None:
    labels = folder / "labels.csv"
    labels.write_text(
        "law_id,address,categories,reason\n"
        "999AC0000000001,main/a1/p1,keiji,posting at offices\n"
        "999AC0000000001,main/a2/p1,teiki;jitchi,periodic inspection\n"
        "999AC0000000001,main/a3/p1,,commencement\n",
        encoding="utf-8",
    )
    code, out, _ = run("evaluate", "--labels", str(labels), "--corpus", str(folder), "--json", "--mistakes")
    assert code == 0, out
    data = json.loads(out)
    assert data["labelled"] == 3
    assert (data["overall"]["tp"], data["overall"]["fp"], data["overall"]["fn"]) == (2, 0, 1)
    assert data["mistakes"] == [
        {"law_id": "999AC0000000001", "address": "main/a2/p1", "category": "jitchi", "kind": "fn"}
    ]
    assert len(data["categories"]) == 9


def test_evaluate_fails_when_a_labelled_provision_is_not_in_the_corpus(folder: Path) -> None:
    labels = folder / "labels.csv"
    labels.write_text(
        "law_id,address,categories,reason\n999AC0000000001,main/a7/p1,,gone\n", encoding="utf-8"
    )
    code, out, _ = run("evaluate", "--labels", str(labels), "--corpus", str(folder))
    assert code == 1
    assert "not in the corpus: 999AC0000000001 main/a7/p1" in out


@pytest.mark.skipif(not LAWS.exists(), reason="../shared/data/laws is not here")
def test_evaluate_the_packaged_labels_on_the_real_corpus_meets_the_bar() -> None:
    code, out, _ = run("evaluate", "--set", "all", "--corpus", str(LAWS), "--json")
    assert code == 0, out
    data = json.loads(out)
    assert data["set"] == "all"
    assert data["labelled"] >= 300
    assert not data["missing"]
    assert data["overall"]["precision"] >= 0.85
    assert data["overall"]["recall"] >= 0.85
    assert [c["category"] for c in data["categories"]] == [
        "mokushi",
        "jitchi",
        "teiki",
        "jochu",
        "taimen",
        "keiji",
        "etsuran",
        "media",
        "shomen",
    ]


def test_evaluate_names_an_unknown_set() -> None:
    code, out, error = run("evaluate", "--set", "nope", "--corpus", str(LAWS))
    assert code == 2
    assert "nope" in out + error

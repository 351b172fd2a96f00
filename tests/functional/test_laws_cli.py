"""``tsunagu laws parse`` and ``tsunagu laws diff`` as a script would use them: the real corpus, a folder with a bad
file among good ones (reported with its position, the others still parsed, exit 1), JSON output, and a diff."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tsunagu.cli import build
from tsunagu.laws.cli_scan import xml_files

LAWS = Path(__file__).resolve().parents[3] / "shared" / "data" / "laws"
GYOTE = LAWS / "xml" / "405AC0000000088_20240401_504AC0100000052.xml"
UCPA_2024 = LAWS / "xml-history" / "405AC0000000047_20240613_505AC0000000051.xml"
UCPA_2025 = LAWS / "xml-history" / "405AC0000000047_20250616_504AC0000000068.xml"
pytestmark = pytest.mark.skipif(not GYOTE.exists(), reason="../shared/data/laws is not here")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(build(), ["laws", *args])
    return result.exit_code, result.stdout, result.stderr


def as_json(out: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(out)
    return data


def test_parse_the_whole_corpus_as_json() -> None:
    code, out, _ = run("parse", str(LAWS), "--json")
    assert code == 0
    data = as_json(out)
    assert data["ok"]
    assert (data["files"], data["parsed"], data["failed"]) == (42, 42, 0)
    by_title = {(law["title"], law["file"].split("/")[-2]): law for law in data["laws"]}
    assert by_title[("行政手続法", "xml")]["articles"] == 69
    assert by_title[("電気事業法", "xml")]["articles"] == 600
    assert all(law["seconds"] >= 0 and law["provisions"] > 0 for law in data["laws"])


def test_a_bad_file_is_reported_with_its_position_and_the_others_still_parse(tmp_path: Path) -> None:
    shutil.copy(GYOTE, tmp_path / GYOTE.name)
    cut = tmp_path / "405AC0000000047_20260524_504AC0000000048.xml"
    data = UCPA_2025.read_bytes()
    cut.write_bytes(data[: data.index(b"\n", 5000)])  # cut off at the end of a line
    (tmp_path / "notes.xml").write_text('<?xml version="1.0"?>\n<notes/>\n', encoding="utf-8")
    code, out, _ = run("parse", str(tmp_path), "--json")
    assert code == 1
    data = as_json(out)
    assert (data["parsed"], data["failed"]) == (1, 2)
    assert data["laws"][0]["law_id"] == "405AC0000000088"
    errors = {Path(e["file"]).name: e for e in data["errors"]}
    assert errors[cut.name]["line"] >= 1
    assert errors[cut.name]["column"] >= 1
    assert "XML" in errors[cut.name]["message_ja"]
    assert errors["notes.xml"]["line"] == 2
    assert "not a law" in errors["notes.xml"]["message"]

    code, out, _ = run("parse", str(tmp_path))
    assert code == 1
    assert "行政手続法: 69 articles" in out
    assert f"error: {cut}:" in out
    assert "1 of 3 files parsed" in out


def test_parse_with_provisions_lists_addresses_and_sentences() -> None:
    code, out, _ = run("parse", str(GYOTE), "--json", "--provisions")
    assert code == 0
    (law,) = as_json(out)["laws"]
    provisions = {p["address"]: p for p in law["provision_list"]}
    item = provisions["main/a2/p1/i4"]
    assert [s["role"] for s in item["sentences"]] == ["", "main", "proviso"]
    assert item["items"] == ["4"]
    assert provisions["main/a36_2/p1"]["title"] == "第三十六条の二"


def test_no_files_is_a_usage_error(tmp_path: Path) -> None:
    code, _, _ = run("parse", str(tmp_path))
    assert code == 2


def test_diff_two_versions() -> None:
    code, out, _ = run("diff", str(UCPA_2024), str(UCPA_2025), "--json")
    assert code == 0
    data = as_json(out)
    assert data["law_id"] == "405AC0000000047"
    assert (data["old_version"], data["new_version"]) == (
        "20240613_505AC0000000051",
        "20250616_504AC0000000068",
    )
    assert [c["address"] for c in data["changed"]] == ["main/a21/p1", "main/a21/p3", "main/a21/p4"]
    assert data["added"] == data["removed"] == []
    code, out, _ = run("diff", str(UCPA_2024), str(UCPA_2025))
    assert "~ main/a21/p1" in out
    assert "拘禁刑" in out
    assert "0 added, 0 removed, 3 changed" in out


def test_diff_refuses_two_different_laws_and_bad_xml(tmp_path: Path) -> None:
    code, out, _ = run("diff", str(UCPA_2024), str(GYOTE), "--json")
    assert code == 2
    assert as_json(out)["error"] == "different-laws"
    bad = tmp_path / "405AC0000000047_20260524_504AC0000000048.xml"
    bad.write_bytes(b"\xff\xfe not xml")
    code, out, _ = run("diff", str(UCPA_2024), str(bad), "--json")
    assert code == 1
    assert as_json(out)["error"] == "bad-xml"


def test_a_folder_named_with_dot_dot_is_read(tmp_path: Path) -> None:
    """A relative path such as ``../shared/data/laws/xml`` is a folder like any other (dot folders inside it are
    skipped, not paths that go up)."""
    inside = tmp_path / "a" / "b"
    inside.mkdir(parents=True)
    (tmp_path / "a" / "laws").mkdir()
    (tmp_path / "a" / "laws" / ".hidden").mkdir()
    (tmp_path / "a" / "laws" / "x.xml").write_text("<x/>", encoding="utf-8")
    (tmp_path / "a" / "laws" / ".hidden" / "y.xml").write_text("<y/>", encoding="utf-8")
    found = xml_files([inside / ".." / "laws"])
    assert [p.name for p in found] == ["x.xml"]

"""``tsunagu laws import|items|item|review|report|counts`` as a script would use them: a folder with a bad file among
good ones (exit 1, the others imported, nothing of the bad one), the same folder again (all unchanged), the workflow
with its refusals (exit 1, the reason in both languages, nothing written), reports to a file and counts."""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.integration.laws.synthetic import BROKEN, EYES, PAPER, PLAIN, POSTED, file_name, write
from typer.testing import CliRunner

from tsunagu.cli import build

Invoke = Callable[..., tuple[int, str, str]]
SECRET = base64.b64encode(bytes(range(32))).decode()
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "data" / "laws"


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    monkeypatch.setenv("TSUNAGU_SECRET_KEY", SECRET)
    monkeypatch.delenv("TSUNAGU_DATABASE_URL", raising=False)
    monkeypatch.delenv("TSUNAGU_LAWS_MAX_FILE_MB", raising=False)
    app = build()
    runner = CliRunner()
    data_dir = tmp_path / "data"

    def invoke(*args: str, code: int = 0) -> tuple[int, str, str]:
        result = runner.invoke(app, [*args, "--data-dir", str(data_dir)])
        assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
        return result.exit_code, result.stdout, result.stderr

    invoke("db", "upgrade")
    return invoke


def as_json(out: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(out)
    return data


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    laws = tmp_path / "laws"
    laws.mkdir()
    write(laws, "20200101", [EYES, POSTED, PAPER, PLAIN])
    write(laws, "20200101", [EYES], law_id="405AC0000000998")
    (laws / file_name("20210101", law_id="405AC0000000997")).write_bytes(BROKEN)
    return laws


def test_import_a_folder_with_a_bad_file_then_again(run: Invoke, folder: Path) -> None:
    _, out, _ = run("laws", "import", str(folder), "--json", code=1)
    data = as_json(out)
    assert (data["ok"], data["files"], data["imported"], data["unchanged"], data["failed"]) == (
        False,
        3,
        2,
        0,
        1,
    )
    failed = next(r for r in data["results"] if r["status"] == "failed")
    assert failed["error"]["line"] == 3
    assert failed["error"]["column"] > 0
    assert failed["error"]["message_ja"]
    assert failed["law_id"] is None
    imported = [r for r in data["results"] if r["status"] == "imported"]
    assert all(r["latest"] and r["findings"] == r["new_items"] for r in imported)
    _, out, _ = run("laws", "import", str(folder), code=1)
    assert "0 imported, 2 unchanged, 1 failed" in out
    assert "unchanged 405AC0000000999" in out
    assert f"{file_name('20210101', law_id='405AC0000000997')}:3:" in out.replace("\n", "")
    _, out, _ = run("laws", "import", str(folder / file_name("20200101")))
    assert "1 files: 0 imported, 1 unchanged, 0 failed" in out
    _, out, _ = run("laws", "import", str(folder / "nothing-here"), code=1)
    assert "cannot open" in out
    (folder / "empty").mkdir()
    run("laws", "import", str(folder / "empty"), code=2)


def test_the_workflow_from_the_command_line(run: Invoke, folder: Path) -> None:
    run("laws", "import", str(folder), code=1)
    _, out, _ = run("laws", "items", "--law", "405AC0000000999", "--json")
    page = as_json(out)
    assert page["total"] >= 3
    first = page["items"][0]
    assert first["article_label"] == "第一条第一項"
    item = str(first["id"])
    _, out, _ = run("laws", "item", item)
    assert "【" in out
    assert "may move to: decided" in out
    _, out, _ = run("laws", "review", item, "--status", "decided", "--phase", "2", "--json", code=1)
    refused = as_json(out)
    assert refused["error"] == "review-refused"
    assert "ministry, deadline" in refused["message"]
    _, out, _ = run("laws", "review", item, "--status", "done", code=1)
    decision = ("--phase", "2", "--ministry", "総務省", "--deadline", "2027-03-31")
    _, out, _ = run("laws", "review", item, "--status", "decided", *decision, "--json")
    decided = as_json(out)["item"]
    assert (decided["status"], decided["phase"], decided["ministry"], decided["deadline"]) == (
        "decided",
        2,
        "総務省",
        "2027-03-31",
    )
    run("laws", "review", item, "--deadline", "31/03/2027", code=2)
    run("laws", "review", item, "--status", "done", "--notes", "完了")
    run("laws", "review", item, "--status", "decided", code=1)  # reopening needs a note
    run("laws", "review", item, "--status", "decided", "--note", "再検討")
    _, out, _ = run("laws", "item", item, "--json")
    detail = as_json(out)["item"]
    assert [(e["from_status"], e["to_status"]) for e in detail["events"]] == [
        ("todo", "decided"),
        ("decided", "done"),
        ("done", "decided"),
    ]
    assert detail["events"][-1]["note"] == "再検討"
    assert detail["notes"] == "完了"
    _, out, _ = run("laws", "redetect", "--json")
    assert {law["law_id"] for law in as_json(out)["laws"]} == {"405AC0000000999", "405AC0000000998"}
    assert all(law["new_items"] == law["absent_items"] == 0 for law in as_json(out)["laws"])
    run("laws", "item", "99999", code=1)
    run("laws", "review", "99999", "--status", "decided", code=1)
    _, out, _ = run("laws", "items", "--status", "decided")
    assert out.splitlines()[-1] == "1–1 of 1 items"
    run("laws", "items", "--category", "nothing", code=2)
    _, out, _ = run("laws", "counts", "--json")
    counts = as_json(out)
    assert counts["totals"]["decided"] == 1
    assert counts["totals"]["total"] == sum(
        r["todo"] + r["decided"] + r["done"] for r in counts["by_category"]
    )
    _, out, _ = run("laws", "counts")
    assert "書面掲示" in out
    assert "合計" in out


def test_reports_to_a_file_and_to_stdout(run: Invoke, folder: Path, tmp_path: Path) -> None:
    run("laws", "import", str(folder), code=1)
    out_file = tmp_path / "review.csv"
    run("laws", "report", "--out", str(out_file), "--law", "405AC0000000999")
    data = out_file.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(data[3:].decode(), newline="")))
    assert "法令名 (Law title)" in table[0]
    assert {row[2] for row in table[1:]} == {"試験規制法"}
    _, out, _ = run("laws", "report", "--format", "json", "--status", "todo")
    assert as_json(out)["counts"]["totals"]["todo"] == len(as_json(out)["items"])
    _, out, _ = run("laws", "report", "--format", "html")
    assert out.startswith('<!doctype html><html lang="ja">')
    run("laws", "report", "--format", "xlsx", code=2)


@pytest.mark.skipif(not (CORPUS / "xml").is_dir(), reason="../shared/data/laws is not here")
def test_the_corpus_imports_once(run: Invoke) -> None:
    _, out, _ = run("laws", "import", str(CORPUS / "xml"), str(CORPUS / "xml-history"), "--json")
    first = as_json(out)
    assert (first["files"], first["failed"], first["imported"] + first["unchanged"]) == (42, 0, 42)
    _, out, _ = run("laws", "import", str(CORPUS / "xml"), str(CORPUS / "xml-history"), "--json")
    again = as_json(out)
    assert (again["imported"], again["unchanged"]) == (0, 42)

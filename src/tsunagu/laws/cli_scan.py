"""``tsunagu laws scan`` (find analog regulations in law XML files, no import) and ``tsunagu laws evaluate``
(precision and recall of the detector on the labelled evaluation set)."""

from __future__ import annotations

import csv
import html
import io
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from tsunagu.clikit import emit, err, fail
from tsunagu.laws.core.detect import Finding, detect_law
from tsunagu.laws.core.evaluate import Evaluation, LabelsError, default_labels_text, evaluate, parse_labels
from tsunagu.laws.core.model import Law, LawXmlError
from tsunagu.laws.core.rules import CATEGORIES, Rules, RulesError, default_rules, parse_rules
from tsunagu.laws.core.xmlparse import parse_law

AsJson = Annotated[bool, typer.Option("--json", help="Print a JSON object instead of text.")]
RulesOption = Annotated[
    Path | None, typer.Option("--rules", help="A rules file (TOML) instead of the packaged rules.")
]
DEFAULT_CORPUS = Path("../shared/data/laws")
FORMATS = ("text", "json", "csv", "html")
CSV_COLUMNS = (
    "law_id",
    "title",
    "address",
    "category",
    "category_ja",
    "start",
    "end",
    "matched",
    "evidence",
    "confidence",
    "technology",
    "rule",
    "file",
)


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def xml_files(paths: list[Path]) -> list[Path]:
    """The files named, and the ``*.xml`` files under the folders named (sorted; dot folders inside them skipped,
    while a path given with ``..`` is fine)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*.xml") if not _hidden(p.relative_to(path))))
        else:
            found.append(path)
    return found


def _rules(path: Path | None, as_json: bool) -> Rules:
    if path is None:
        return default_rules()
    try:
        return parse_rules(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{path}: cannot read ({exc})", 2, as_json=as_json, error_code="not-found")
    except RulesError as exc:
        fail(f"{path}: {exc}", 2, as_json=as_json, error_code="bad-rules")


def _parse_all(files: list[Path]) -> tuple[list[tuple[Path, Law]], list[LawXmlError]]:
    laws: list[tuple[Path, Law]] = []
    errors: list[LawXmlError] = []
    for file in files:
        try:
            laws.append((file, parse_law(file)))
        except LawXmlError as exc:
            errors.append(exc)
        except OSError as exc:
            errors.append(LawXmlError(str(file), 0, 0, f"読めません ({exc})", f"cannot read ({exc})"))
    return laws, errors


def _rows(laws: list[tuple[Path, Law]], rules: Rules, categories: set[str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for file, law in laws:
        texts = {p.address: p.text for p in law.provisions}
        for finding in detect_law(law.provisions, rules):
            if categories and finding.category not in categories:
                continue
            rows.append(_row(file, law, finding, texts[finding.address], rules))
    return rows


def _row(file: Path, law: Law, finding: Finding, text: str, rules: Rules) -> dict[str, Any]:
    return {
        "law_id": finding.law_id,
        "title": law.title,
        "address": finding.address,
        "category": finding.category,
        "category_ja": rules.category(finding.category).name_ja,
        "start": finding.start,
        "end": finding.end,
        "matched": finding.matched,
        "evidence": finding.evidence(text),
        "confidence": finding.confidence,
        "technology": finding.technology,
        "rule": finding.rule,
        "file": str(file),
    }


def render_csv(rows: list[dict[str, Any]]) -> str:
    """CSV with a BOM so that Excel opens the Japanese text as UTF-8."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return "\ufeff" + out.getvalue()


def render_html(rows: list[dict[str, Any]]) -> str:
    """A standalone, escaped HTML table (Japanese first) for reading or attaching to a review."""
    head = "".join(
        f"<th scope='col'>{h}</th>"
        for h in (
            "法令ID / Law ID",
            "条項 / Provision",
            "類型 / Category",
            "根拠 / Evidence",
            "確度 / Confidence",
        )
    )
    body = "".join(
        "<tr>"
        f"<td>{html.escape(r['law_id'])}<br>{html.escape(r['title'])}</td>"
        f"<td>{html.escape(r['address'])}</td>"
        f"<td>{html.escape(r['category_ja'])} ({html.escape(r['category'])})</td>"
        f"<td>{html.escape(r['evidence'])}</td>"
        f"<td>{r['confidence']:.2f}</td>"
        "</tr>\n"
        for r in rows
    )
    return (
        "<!DOCTYPE html>\n<html lang='ja'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<title>アナログ規制の検出結果 / Analog regulations found</title></head><body>"
        "<h1>アナログ規制の検出結果 / Analog regulations found</h1>"
        f"<p>{len(rows)} 件 / findings</p>"
        "<div style='overflow-x:auto'><table>"
        f"<thead><tr>{head}</tr></thead><tbody>\n{body}</tbody></table></div></body></html>\n"
    )


def render_text(rows: list[dict[str, Any]]) -> str:
    lines = [
        f"{r['law_id']}  {r['address']}  {r['category']} ({r['category_ja']})  "
        f"[{r['start']}:{r['end']}] {r['evidence']}  {r['confidence']:.2f}"
        for r in rows
    ]
    lines.append(f"{len(rows)} findings")
    return "\n".join(lines)


def _newest_versions(laws: list[tuple[Path, Law]]) -> list[tuple[Path, Law]]:
    newest: dict[str, tuple[Path, Law]] = {}
    for file, law in laws:
        if law.law_id not in newest or law.version > newest[law.law_id][1].version:
            newest[law.law_id] = (file, law)
    return list(newest.values())


def _score_lines(result: Evaluation) -> list[str]:
    head = f"{'category':<10} {'support':>7} {'tp':>4} {'fp':>4} {'fn':>4} {'precision':>9} {'recall':>7} {'f1':>6}"
    return [head] + [
        f"{s.category:<10} {s.support:>7} {s.tp:>4} {s.fp:>4} {s.fn:>4} "
        f"{s.precision:>9.3f} {s.recall:>7.3f} {s.f1:>6.3f}"
        for s in (*result.per_category, result.overall)
    ]


def _write_scan(
    output_format: str, files: int, scanned: int, rows: list[dict[str, Any]], errors: list[LawXmlError]
) -> None:
    if output_format == "json":
        data = {
            "ok": not errors,
            "files": files,
            "scanned": scanned,
            "findings": rows,
            "errors": [
                {"file": e.file, "line": e.line, "column": e.column, "message": e.message} for e in errors
            ],
        }
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    elif output_format == "csv":
        sys.stdout.write(render_csv(rows))
    elif output_format == "html":
        sys.stdout.write(render_html(rows))
    else:
        sys.stdout.write(render_text(rows) + "\n")


def add_scan_commands(app: typer.Typer) -> None:
    @app.command("scan")
    def scan_cmd(
        paths: Annotated[list[Path], typer.Argument(help="Law XML files or folders of them.")],
        output_format: Annotated[
            str, typer.Option("--format", help="text, json, csv (with a BOM, for Excel) or html.")
        ] = "text",
        category: Annotated[
            list[str] | None, typer.Option("--category", help="Only this category (repeatable).")
        ] = None,
        rules_file: RulesOption = None,
    ) -> None:
        """Find analog regulations (アナログ規制) in law XML files without importing them: law ID, provision
        address, category, evidence span and confidence. Unreadable files are reported; the others still scanned
        (exit 1 if any failed)."""
        as_json = output_format == "json"
        if output_format not in FORMATS:
            fail(f"--format must be one of {', '.join(FORMATS)} (got {output_format})", 2)
        wanted = set(category or [])
        unknown = sorted(wanted - set(CATEGORIES))
        if unknown:
            fail(
                f"unknown category {', '.join(unknown)} (one of {', '.join(CATEGORIES)})", 2, as_json=as_json
            )
        rules = _rules(rules_file, as_json)
        files = xml_files(paths)
        if not files:
            fail("no law XML files found", 2, as_json=as_json, error_code="not-found")
        laws, errors = _parse_all(files)
        rows = _rows(laws, rules, wanted)
        for exc in errors:
            err.print(f"[bold red]error:[/] {exc} / {exc.message_ja}", highlight=False)
        _write_scan(output_format, len(files), len(laws), rows, errors)
        if errors:
            raise typer.Exit(1)

    @app.command("evaluate")
    def evaluate_cmd(
        labels_file: Annotated[
            Path | None, typer.Option("--labels", help="A labels CSV (law_id,address,categories,reason).")
        ] = None,
        corpus: Annotated[
            Path,
            typer.Option(
                "--corpus", help="A folder of law XML files (the newest version of each law is used)."
            ),
        ] = DEFAULT_CORPUS,
        mistakes: Annotated[
            bool, typer.Option("--mistakes", help="Also list each miss and false alarm.")
        ] = False,
        label_set: Annotated[
            str,
            typer.Option(
                "--set",
                help="Which packaged labelled set: test (held out, the default), tune, dev, or all.",
            ),
        ] = "test",
        rules_file: RulesOption = None,
        as_json: AsJson = False,
    ) -> None:
        """Precision, recall and F1 of the detector per category and overall on a labelled evaluation set."""
        try:
            text = labels_file.read_text(encoding="utf-8") if labels_file else default_labels_text(label_set)
            labels = parse_labels(text)
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"{labels_file}: cannot read ({exc})", 2, as_json=as_json, error_code="not-found")
        except LabelsError as exc:
            fail(f"{labels_file or label_set}: {exc}", 2, as_json=as_json, error_code="bad-labels")
        rules = _rules(rules_file, as_json)
        files = xml_files([corpus]) if corpus.is_dir() else []
        if not files:
            fail(
                f"{corpus}: no law XML files (give --corpus DIR)", 2, as_json=as_json, error_code="not-found"
            )
        laws, errors = _parse_all(files)
        laws = _newest_versions(laws)
        known = {(law.law_id, p.address) for _, law in laws for p in law.provisions}
        missing = [
            f"{label.law_id} {label.address}"
            for label in labels
            if (label.law_id, label.address) not in known
        ]
        findings = [f for _, law in laws for f in detect_law(law.provisions, rules)]
        result = evaluate(labels, findings)
        data = {
            "ok": not missing and not errors,
            "labelled": result.labelled,
            "set": str(labels_file) if labels_file else label_set,
            "missing": missing,
            "categories": [
                s.as_dict() | {"name_ja": rules.category(s.category).name_ja} for s in result.per_category
            ],
            "overall": result.overall.as_dict(),
            "mistakes": [m.__dict__ for m in result.mistakes] if mistakes else [],
        }
        lines = _score_lines(result)
        lines.append(f"{result.labelled} labelled provisions ({labels_file or 'set ' + label_set})")
        if mistakes:
            lines += [f"{m.kind} {m.category} {m.law_id} {m.address}" for m in result.mistakes]
        lines += [f"warning: labelled provision not in the corpus: {m}" for m in missing]
        lines += [f"error: {e} / {e.message_ja}" for e in errors]
        emit(as_json, data, "\n".join(lines))
        if missing or errors:
            raise typer.Exit(1)

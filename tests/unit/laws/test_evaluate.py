"""The evaluation: metric arithmetic on hand-made findings, the labels file's checks, and the packaged labelled set
(≥ 300 provisions, every category, every address present in the corpus when ../shared/data/laws is here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tsunagu.laws.core.detect import Finding
from tsunagu.laws.core.evaluate import (
    LABEL_SETS,
    LabelsError,
    Score,
    default_labels_text,
    evaluate,
    parse_labels,
)
from tsunagu.laws.core.rules import CATEGORIES

LAWS = Path(__file__).resolve().parents[4] / "shared" / "data" / "laws" / "xml"
HEADER = "law_id,address,categories,reason\n"


def finding(address: str, category: str, law_id: str = "L1") -> Finding:
    return Finding(law_id, address, category, 0, 1, "x", 0.9, "tech", "rule")


def test_score_arithmetic() -> None:
    score = Score("keiji", tp=3, fp=1, fn=2)
    assert (score.precision, score.recall, score.support) == (0.75, 0.6, 5)
    assert score.f1 == pytest.approx(2 * 0.75 * 0.6 / 1.35)
    assert Score("media", 0, 0, 0).precision == 1.0  # nothing claimed, nothing missed
    assert Score("media", 0, 2, 1).f1 == 0.0


def test_evaluate_counts_per_category_and_micro_overall() -> None:
    labels = parse_labels(
        HEADER
        + "L1,main/a1/p1,keiji,posted\n"
        + "L1,main/a2/p1,keiji;shomen,both\n"
        + "L1,main/a3/p1,,none\n"
        + "L1,main/a4/p1,etsuran,missed\n"
    )
    findings = [
        finding("main/a1/p1", "keiji"),  # tp
        finding("main/a2/p1", "keiji"),  # tp (shomen missed: fn)
        finding("main/a3/p1", "mokushi"),  # fp
        finding("main/a9/p1", "media"),  # unlabelled: ignored
        finding("main/a1/p1", "keiji", law_id="L2"),  # another law: ignored
    ]
    result = evaluate(labels, findings)
    by = {s.category: s for s in result.per_category}
    assert [s.category for s in result.per_category] == list(CATEGORIES)
    assert (by["keiji"].tp, by["keiji"].fp, by["keiji"].fn) == (2, 0, 0)
    assert (by["shomen"].tp, by["shomen"].fn) == (0, 1)
    assert (by["mokushi"].fp, by["etsuran"].fn, by["media"].fp) == (1, 1, 0)
    assert (result.overall.tp, result.overall.fp, result.overall.fn) == (2, 1, 2)
    assert result.overall.precision == pytest.approx(2 / 3)
    assert result.overall.recall == pytest.approx(0.5)
    assert result.labelled == 4
    assert {(m.address, m.category, m.kind) for m in result.mistakes} == {
        ("main/a2/p1", "shomen", "fn"),
        ("main/a3/p1", "mokushi", "fp"),
        ("main/a4/p1", "etsuran", "fn"),
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("law,address\n", "line 1"),
        (HEADER + "L1,main/a1/p1,kanban,x\n", "line 2: unknown category kanban"),
        (HEADER + "L1,main/a1/p1,keiji\n", "line 2: expected 4 columns"),
        (HEADER + "L1,main/a1/p1,,x\nL1,main/a1/p1,keiji,y\n", "line 3: L1 main/a1/p1 is labelled twice"),
        (HEADER + ",main/a1/p1,,x\n", "line 2: law_id and address are required"),
    ],
)
def test_a_bad_labels_file_names_the_line(text: str, message: str) -> None:
    with pytest.raises(LabelsError, match=message):
        parse_labels(text)


def test_a_bom_is_accepted() -> None:
    assert parse_labels("\ufeff" + HEADER + "L1,main/a1/p1,,x\n")[0].categories == frozenset()


@pytest.mark.parametrize("name", LABEL_SETS)
def test_each_packaged_set_reads_and_none_overlaps(name: str) -> None:
    labels = parse_labels(default_labels_text(name))
    assert labels
    others = {
        (label.law_id, label.address)
        for other in LABEL_SETS
        if other != name
        for label in parse_labels(default_labels_text(other))
    }
    assert [label for label in labels if (label.law_id, label.address) in others] == []


def test_an_unknown_set_is_refused() -> None:
    with pytest.raises(LabelsError, match="nope"):
        default_labels_text("nope")


def test_the_labelled_set_has_300_provisions_and_every_category() -> None:
    labels = parse_labels(default_labels_text("all"))
    assert len(labels) >= 300
    present = {c for label in labels for c in label.categories}
    assert present == set(CATEGORIES)
    assert sum(1 for label in labels if not label.categories) >= 100  # negatives, tricky and random
    assert all(label.reason for label in labels)


@pytest.mark.skipif(not LAWS.exists(), reason="../shared/data/laws is not here")
def test_every_labelled_address_exists_in_the_corpus() -> None:
    from tsunagu.laws.core.xmlparse import parse_law

    known = {(p.law_id, p.address) for file in sorted(LAWS.glob("*.xml")) for p in parse_law(file).provisions}
    missing = [(label.law_id, label.address) for label in parse_labels(default_labels_text("all"))]
    assert [key for key in missing if key not in known] == []

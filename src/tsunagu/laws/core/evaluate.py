"""Measure the detector against the labelled evaluation set (評価用ラベル): precision, recall and F1 per category
and overall (micro-averaged over provision × category decisions).

Labels are ``law_id, address, categories, reason`` rows (``categories`` ``;``-separated, empty for none); they hold
no law text. Only labelled provisions are scored: a finding in an unlabelled provision is neither right nor wrong.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.resources import files

from tsunagu.laws.core.detect import Finding
from tsunagu.laws.core.rules import CATEGORIES

LABEL_COLUMNS = ("law_id", "address", "categories", "reason")


class LabelsError(ValueError):
    """A labels file that cannot be used; the message names the line."""


@dataclass(frozen=True)
class Label:
    law_id: str
    address: str
    categories: frozenset[str]
    reason: str


@dataclass(frozen=True)
class Score:
    category: str
    tp: int
    fp: int
    fn: int

    @property
    def support(self) -> int:
        return self.tp + self.fn

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "category": self.category,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "support": self.support,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
        }


@dataclass(frozen=True)
class Mistake:
    law_id: str
    address: str
    category: str
    kind: str  # "fp" (found, not labelled) or "fn" (labelled, not found)


@dataclass(frozen=True)
class Evaluation:
    per_category: tuple[Score, ...]
    overall: Score
    mistakes: tuple[Mistake, ...]
    labelled: int


def parse_labels(text: str) -> list[Label]:
    """Read the labels CSV (UTF-8, a BOM allowed); a :class:`LabelsError` names the line of a bad row."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    header = next(reader, None)
    if header is None or tuple(h.strip() for h in header) != LABEL_COLUMNS:
        raise LabelsError(f"line 1: the header must be {','.join(LABEL_COLUMNS)}")
    labels: list[Label] = []
    seen: set[tuple[str, str]] = set()
    for line, row in enumerate(reader, start=2):
        if not row:
            continue
        if len(row) != len(LABEL_COLUMNS):
            raise LabelsError(f"line {line}: expected {len(LABEL_COLUMNS)} columns, got {len(row)}")
        law_id, address, categories, reason = (cell.strip() for cell in row)
        if not law_id or not address:
            raise LabelsError(f"line {line}: law_id and address are required")
        names = frozenset(c.strip() for c in categories.split(";") if c.strip())
        unknown = sorted(names - set(CATEGORIES))
        if unknown:
            raise LabelsError(f"line {line}: unknown category {', '.join(unknown)}")
        if (law_id, address) in seen:
            raise LabelsError(f"line {line}: {law_id} {address} is labelled twice")
        seen.add((law_id, address))
        labels.append(Label(law_id, address, names, reason))
    return labels


LABEL_SETS = ("dev", "tune", "test")
"""The packaged labelled sets (``data/labels/{name}.csv``), in the order they were made:

* ``dev`` — the first set, labelled while the rules were written (the rules were tuned on it);
* ``tune`` — half of a sample drawn by ``scripts/laws_heldout_sample.py`` and labelled blind; used to improve the
  rules after its first measurement;
* ``test`` — the other half of that sample, labelled blind and **held out**: the rules were never changed by looking
  at it. Its figures are the honest ones."""


def default_labels_text(name: str = "test") -> str:
    """The packaged labelled set ``name`` (one of :data:`LABEL_SETS`), or ``"all"`` for every set together."""
    if name == "all":
        parts = [default_labels_text(n) for n in LABEL_SETS]
        return parts[0] + "".join(p.split("\n", 1)[1] for p in parts[1:])
    if name not in LABEL_SETS:
        raise LabelsError(f"unknown labelled set {name!r} (one of {', '.join(LABEL_SETS)}, all)")
    return files("tsunagu.laws").joinpath(f"data/labels/{name}.csv").read_text(encoding="utf-8")


def evaluate(labels: Iterable[Label], findings: Iterable[Finding]) -> Evaluation:
    """Score ``findings`` on the labelled provisions only."""
    labels = list(labels)
    truth = {(label.law_id, label.address): label.categories for label in labels}
    found: dict[tuple[str, str], set[str]] = {}
    for finding in findings:
        key = (finding.law_id, finding.address)
        if key in truth:
            found.setdefault(key, set()).add(finding.category)
    counts = {c: [0, 0, 0] for c in CATEGORIES}
    mistakes: list[Mistake] = []
    for key, expected in truth.items():
        got = found.get(key, set())
        for category in CATEGORIES:
            if category in expected and category in got:
                counts[category][0] += 1
            elif category in got:
                counts[category][1] += 1
                mistakes.append(Mistake(key[0], key[1], category, "fp"))
            elif category in expected:
                counts[category][2] += 1
                mistakes.append(Mistake(key[0], key[1], category, "fn"))
    scores = tuple(Score(c, *counts[c]) for c in CATEGORIES)
    overall = Score(
        "overall", sum(s.tp for s in scores), sum(s.fp for s in scores), sum(s.fn for s in scores)
    )
    return Evaluation(scores, overall, tuple(mistakes), len(truth))

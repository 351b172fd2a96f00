"""Benchmark: parse + detect the law corpus (issue 8: "the 14 MB corpus in ≤ 5 s on 2 cores, beside a bare lxml
parse of the same files in the same run", and a projection for the national corpus).

Each round reads every file of ``../shared/data/laws`` (xml and xml-history: 42 files, 14 MB) these ways, in the same
run and on the same warm page cache:

1. ``parse + detect``: :func:`~tsunagu.laws.core.xmlparse.parse_law` then
   :func:`~tsunagu.laws.core.detect.detect_law` on every provision, in 1 process and split over ``--workers``
   processes (default 2, the target's cores; files balanced by size, biggest first);
2. ``parse only`` (1 process), so that the detector's share shows;
3. baseline: a bare ``lxml.etree.parse`` of the same files (a whole tree built and walked, nothing extracted), in 1
   process and over the same workers.

The rules are read when the run starts (``--rules``, default the packaged ``data/rules.toml`` as it is now on disk)
and parsed once in each process before timing; the findings counted are those of this run's rules. Figures are
medians over ``--rounds``; MB/s are of the XML bytes. The projection divides the size of the national corpus (see
``NATIONAL``) by the measured 2-process rate.

    .venv/bin/python bench/laws_scan.py [--data DIR] [--rounds 5] [--workers 2] [--rules FILE] [--markdown]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TypeVar

# The corpus, the bare-lxml baseline and the balanced split are the parse benchmark's (run from bench/).
from laws_parse import DATA, bare_lxml, files_in, split
from tsunagu.laws.core.detect import detect_law
from tsunagu.laws.core.rules import Rules, default_rules_text, parse_rules
from tsunagu.laws.core.xmlparse import parse_law

# The national corpus (e-Gov 法令検索's "all laws" XML bulk download, bulkdownload?file_section=1), as measured on
# 2026-09-11 by okamyuji/egov-law-sync (docs/measurements.md, commit 43253f3): 324 MB zip, 3,618 MB of XML expanded,
# 10,702 files (one per revision: the current one of each law, plus amendments not yet in force), 8,997 law IDs, the
# largest 17 MB; its /laws catalogue lists 9,567 laws (9,010 not repealed).
NATIONAL_MB = 3618.0
NATIONAL_FILES = 10_702
_rules: list[Rules] = []
T = TypeVar("T")


def load_rules(text: str) -> None:
    """Parse the rules in this process (a pool's initializer, and once in the main process)."""
    _rules[:] = [parse_rules(text)]


def scan(files: list[Path]) -> tuple[int, int, int]:
    """Parse and detect: (articles, provisions, findings)."""
    articles = provisions = findings = 0
    for file in files:
        law = parse_law(file)
        articles += law.articles
        provisions += len(law.provisions)
        findings += len(detect_law(law.provisions, _rules[0]))
    return articles, provisions, findings


def parse_only(files: list[Path]) -> int:
    return sum(len(parse_law(file).provisions) for file in files)


def timed(runs: list[float], work: Callable[[], T]) -> T:
    started = time.perf_counter()
    result = work()
    runs.append(time.perf_counter() - started)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rules", type=Path, default=None, help="a rules TOML (default: the packaged one)")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    load_at_start = os.getloadavg()[0]
    files = files_in(args.data)
    if not files:
        raise SystemExit(f"no law XML under {args.data}")
    megabytes = sum(f.stat().st_size for f in files) / 1e6
    rules_text = args.rules.read_text(encoding="utf-8") if args.rules else default_rules_text()
    started = time.perf_counter()
    load_rules(rules_text)
    rules_seconds = time.perf_counter() - started
    shares = split(files, args.workers)

    runs: dict[str, list[float]] = {k: [] for k in ("scan1", "scanN", "parse1", "bare1", "bareN")}
    counts: tuple[int, int, int] = (0, 0, 0)
    elements = 0
    with ProcessPoolExecutor(args.workers, initializer=load_rules, initargs=(rules_text,)) as pool:
        list(pool.map(scan, [[files[0]]] * args.workers))  # start the workers (imports, rules) before timing
        for _ in range(args.rounds):
            counts = timed(runs["scan1"], lambda: scan(files))
            pooled = timed(runs["scanN"], lambda: list(pool.map(scan, shares)))
            assert [sum(c) for c in zip(*pooled, strict=True)] == list(counts), "the pool saw other findings"
            timed(runs["parse1"], lambda: parse_only(files))
            elements = timed(runs["bare1"], lambda: bare_lxml(files))
            timed(runs["bareN"], lambda: list(pool.map(bare_lxml, shares)))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    articles, provisions, findings = counts
    median = {k: statistics.median(v) for k, v in runs.items()}

    def rate(key: str) -> str:
        return (
            f"{median[key]:.3f} s (best {min(runs[key]):.3f}) · {megabytes / median[key]:.1f} MB/s · "
            f"{1000 * median[key] / megabytes:.0f} s per GB"
        )

    national_s = NATIONAL_MB / (megabytes / median["scanN"])
    per_file_mb = megabytes / len(files)
    national_file_kb = NATIONAL_MB / NATIONAL_FILES * 1000
    rows = [
        (
            "machine: 1-min load average at start, at end / cores",
            f"{load_at_start:.1f}, {os.getloadavg()[0]:.1f} / {os.cpu_count()}",
        ),
        (
            "corpus",
            f"{len(files)} files, {megabytes:.1f} MB, {articles:,} articles, {provisions:,} provisions "
            f"({elements:,} elements)",
        ),
        (
            "rules (read at start)",
            f"{len(_rules[0].categories)} categories, parsed in {rules_seconds * 1000:.0f} ms",
        ),
        ("findings (this run's rules)", f"{findings:,}"),
        ("rounds", str(args.rounds)),
        ("**parse + detect, 1 process (median)**", rate("scan1")),
        (f"**parse + detect, {args.workers} processes (median)**", rate("scanN")),
        ("parse only, 1 process (median)", rate("parse1")),
        ("baseline: bare lxml.etree.parse, 1 process (median)", rate("bare1")),
        (f"baseline: bare lxml.etree.parse, {args.workers} processes (median)", rate("bareN")),
        ("detection's share of parse + detect (1 process)", f"{1 - median['parse1'] / median['scan1']:.0%}"),
        (
            f"ratio parse + detect / bare lxml ({args.workers} processes)",
            f"{median['scanN'] / median['bareN']:.1f} ×",
        ),
        (
            "target: ≤ 5 s on 2 cores",
            f"{'met' if median['scanN'] <= 5 else 'NOT met'} ({median['scanN']:.2f} s)",
        ),
        (
            f"projection: national corpus, {NATIONAL_MB:,.0f} MB in {NATIONAL_FILES:,} files, "
            f"{args.workers} processes",
            f"{national_s:.0f} s ≈ {national_s / 60:.1f} min at {megabytes / median['scanN']:.1f} MB/s "
            f"(this corpus: {per_file_mb * 1000:.0f} KB a file; the national: {national_file_kb:.0f} KB)",
        ),
        ("peak RSS of the main process", f"{peak_mb:.0f} MB"),
    ]
    if args.markdown:
        print("| measure | value |\n|---|---|")
        for label, value in rows:
            print(f"| {label} | {value} |")
    else:
        for label, value in rows:
            print(f"{label.replace('**', '')}: {value}")


if __name__ == "__main__":
    main()

"""Benchmark: the law XML parser (issue 8; the parse half of "parse + detect the 14 MB corpus in ≤ 5 s on 2 cores").

Each round parses every file of ``../shared/data/laws`` (42 files, 14 MB) three ways, in the same run:

1. ``tsunagu``: :func:`tsunagu.laws.core.xmlparse.parse_law` (streaming iterparse into provisions), one process;
2. ``tsunagu ×N``: the same files split over ``--workers`` processes (default 2, the target's cores);
3. baseline: a bare ``lxml.etree.parse`` of the same files (a whole tree, nothing extracted).

Figures are medians over ``--rounds`` (default 5), with MB/s and the time one GB would take at that rate.

    .venv/bin/python bench/laws_parse.py [--data DIR] [--rounds 5] [--workers 2] [--markdown]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from lxml import etree

from tsunagu.laws.core.xmlparse import parse_law

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "laws"


def files_in(data: Path) -> list[Path]:
    return sorted([*data.glob("xml/*.xml"), *data.glob("xml-history/*.xml")])


def parse_all(files: list[Path]) -> tuple[int, int]:
    articles = provisions = 0
    for file in files:
        law = parse_law(file)
        articles += law.articles
        provisions += len(law.provisions)
    return articles, provisions


def bare_lxml(files: list[Path]) -> int:
    elements = 0
    for file in files:
        elements += sum(1 for _ in etree.parse(str(file)).getroot().iter())
    return elements


def split(files: list[Path], parts: int) -> list[list[Path]]:
    """Balanced by size: the biggest files first, each to the lightest share."""
    shares: list[list[Path]] = [[] for _ in range(parts)]
    sizes = [0] * parts
    for file in sorted(files, key=lambda f: f.stat().st_size, reverse=True):
        lightest = sizes.index(min(sizes))
        shares[lightest].append(file)
        sizes[lightest] += file.stat().st_size
    return shares


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    files = files_in(args.data)
    if not files:
        raise SystemExit(f"no law XML under {args.data}")
    megabytes = sum(f.stat().st_size for f in files) / 1e6

    ours: list[float] = []
    pooled: list[float] = []
    bare: list[float] = []
    articles = provisions = elements = 0
    with ProcessPoolExecutor(args.workers) as pool:
        list(pool.map(parse_all, [[files[0]]] * args.workers))  # start the workers (imports) before timing
        for _ in range(args.rounds):
            started = time.perf_counter()
            articles, provisions = parse_all(files)
            ours.append(time.perf_counter() - started)
            started = time.perf_counter()
            list(pool.map(parse_all, split(files, args.workers)))
            pooled.append(time.perf_counter() - started)
            started = time.perf_counter()
            elements = bare_lxml(files)
            bare.append(time.perf_counter() - started)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def row(label: str, runs: list[float]) -> tuple[str, str]:
        median = statistics.median(runs)
        return label, (
            f"{median:.3f} s (best {min(runs):.3f}) · {megabytes / median:.1f} MB/s · "
            f"{1000 / (megabytes / median):.0f} s per GB"
        )

    rows = [
        ("machine: 1-min load average / cores", f"{os.getloadavg()[0]:.1f} / {os.cpu_count()}"),
        (
            "corpus",
            f"{len(files)} files, {megabytes:.1f} MB, {articles:,} articles, {provisions:,} provisions",
        ),
        ("rounds", str(args.rounds)),
        row("**tsunagu parse_law, 1 process (median)**", ours),
        row(f"**tsunagu parse_law, {args.workers} processes (median)**", pooled),
        row(f"baseline: bare lxml.etree.parse ({elements:,} elements, median)", bare),
        (
            "ratio tsunagu (1 process) / bare lxml",
            f"{statistics.median(ours) / statistics.median(bare):.1f} ×",
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

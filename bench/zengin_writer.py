"""Benchmark: the Zengin 総合振込 file writer (issue 6 target: ≥ 300,000 records/s), printed beside a bare Python
loop writing 120-byte records to the same kind of sink in the same run.

    .venv/bin/python bench/zengin_writer.py [--records N] [--runs R] [--markdown]

Both write to an in-memory buffer (io.BytesIO), so disk speed is out of the figure; the writer does everything a
payment run's file needs per record (format, character-set and digit checks, cp932 encoding, CRLF, trailer totals)."""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import time

from tsunagu.payments.core import zengin

HEADER = zengin.Header("1234567890", "ﾌｼﾞｻﾜｼ", dt.date(2026, 12, 10), "0001", "001", "1", "1234567")


def transfers(n: int) -> list[zengin.Transfer]:
    return [
        zengin.Transfer(
            "0005", f"{i % 1000:03d}", "1", f"{i % 10_000_000:07d}", "ﾔﾏﾀﾞ ﾀﾛｳ", 1_000 + i % 100_000
        )
        for i in range(n)
    ]


def writer_rate(items: list[zengin.Transfer]) -> float:
    sink = io.BytesIO()
    start = time.perf_counter()
    for record in zengin.write(HEADER, items):
        sink.write(record)
    elapsed = time.perf_counter() - start
    assert sink.tell() == (len(items) + 3) * 122
    return len(items) / elapsed


def bare_rate(n: int) -> float:
    sink = io.BytesIO()
    record = b"2" + b" " * 119 + b"\r\n"
    start = time.perf_counter()
    for _ in range(n):
        sink.write(record)
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    items = transfers(args.records)
    writer = sorted(writer_rate(items) for _ in range(args.runs))
    bare = sorted(bare_rate(args.records) for _ in range(args.runs))
    load = os.getloadavg()[0]
    rows = [
        ("machine: 1-min load average", f"{load:.1f}"),
        ("records per run / runs", f"{args.records:,} / {args.runs}"),
        (
            "**writer: 総合振込 data records/s (median, best)**",
            f"**{writer[len(writer) // 2]:,.0f}** / {writer[-1]:,.0f}",
        ),
        ("baseline: bare loop writing 120-byte records/s (median)", f"{bare[len(bare) // 2]:,.0f}"),
        ("target (issue 6)", "≥ 300,000 records/s"),
    ]
    if args.markdown:
        print("| measure | value |\n|---|---|")
        for k, v in rows:
            print(f"| {k} | {v} |")
    else:
        for k, v in rows:
            print(f"{k:60} {v}")


if __name__ == "__main__":
    main()

"""Draw the held-out sample for the law-review evaluation set, before anyone runs the detector on it.

The sample is reproducible (fixed seed) and independent of the detector's rules: it is drawn from the current
versions of the laws in ``../shared/data/laws/xml`` (provisions already labelled in ``labels/dev.csv`` left out) as

* a uniform random draw of provisions, and
* a draw from provisions containing broad review terms (the kind of keyword search the national review used:
  目視, 巡視, 実地, 常駐, 専任, 掲示, 講習, 閲覧, 縦覧, media names …), at most a fixed number per term so that rare
  categories are sampled.

Each drawn provision goes to the ``tune`` or the ``test`` split by a hash of its address, and the output is a JSON
line per provision (law ID, address, split, caption, text, and the other paragraphs of its article for context),
for the people who label it. The detector is not run here.

    python scripts/laws_heldout_sample.py [--corpus DIR] [--random N] [--per-term N] > sample.jsonl
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
import sys
from collections import defaultdict
from pathlib import Path

from tsunagu.laws.api import parse_law

TERMS = (
    "目視", "巡視", "見張", "実地", "立入", "立ち入", "検査", "点検", "監査", "定期", "毎年", "常駐", "専任", "常勤",
    "選任", "講習", "研修", "掲示", "掲げ", "標識", "閲覧", "縦覧", "備え置", "書面", "交付", "磁気", "ディスク",
    "記録媒体", "出頭", "対面", "提示", "立会", "立ち会",
)  # fmt: skip
# Round 2 adds these terms and leaves out provisions that are never labelled positive whatever their words (penal
# provisions, 読替え, なお従前の例), so that more of the sample is worth reading.
TERMS_2 = (
    "証明書",
    "免許証",
    "許可証",
    "通知書",
    "書類",
    "常時",
    "携帯",
    "備え付け",
    "写し",
    "帳簿",
    "現地",
    "確認",
)
NEVER = ("に処する", "過料", "とあるのは", "なお従前の例")


def main() -> int:
    here = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=here.parent / "shared" / "data" / "laws" / "xml")
    parser.add_argument("--labelled", type=Path, default=here / "src/tsunagu/laws/data/labels/dev.csv")
    parser.add_argument("--random", type=int, default=150)
    parser.add_argument("--per-term", type=int, default=9)
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--round", type=int, default=1, choices=(1, 2), help="2: the enriched second sample")
    parser.add_argument(
        "--exclude", type=Path, action="append", default=[], help="more labelled CSVs to leave out"
    )
    args = parser.parse_args()

    seen: set[tuple[str, str]] = set()
    for labelled in [args.labelled, *args.exclude]:
        if labelled.exists():
            with labelled.open(encoding="utf-8") as f:
                seen |= {(row["law_id"], row["address"]) for row in csv.DictReader(f)}
    provisions = []
    articles: dict[tuple[str, str], list[str]] = defaultdict(list)
    for file in sorted(args.corpus.glob("*.xml")):
        law = parse_law(file)
        for p in law.provisions:
            head = p.address.partition("/p")[0]
            articles[(p.law_id, head)].append(f"[{p.address}] {p.text}")
            if p.deleted or not p.text.strip() or (p.law_id, p.address) in seen:
                continue
            if args.round == 2 and any(word in p.text for word in NEVER):
                continue
            provisions.append(p)
    # Round 2 draws with seed + 2 (rounds 2-5 were drawn with --round 2 --random 0 and seeds 20261126-20261129).
    rng = random.Random(args.seed + (2 if args.round == 2 else 0))  # noqa: S311 - reproducible, not a secret
    chosen: dict[tuple[str, str], object] = {}
    for p in rng.sample(provisions, args.random):
        chosen[(p.law_id, p.address)] = p
    terms = TERMS if args.round == 1 else TERMS + TERMS_2
    for term in terms:
        pool = [p for p in provisions if term in p.text and (p.law_id, p.address) not in chosen]
        for p in rng.sample(pool, min(args.per_term, len(pool))):
            chosen[(p.law_id, p.address)] = p
    rows = list(chosen.values())
    rng.shuffle(rows)
    for p in rows:
        key = f"{p.law_id}|{p.address}".encode()  # type: ignore[attr-defined]
        split = "test" if hashlib.sha256(key).digest()[0] % 2 else "tune"
        head = p.address.partition("/p")[0]  # type: ignore[attr-defined]
        record = {
            "law_id": p.law_id,  # type: ignore[attr-defined]
            "address": p.address,  # type: ignore[attr-defined]
            "split": split,
            "caption": p.caption,  # type: ignore[attr-defined]
            "text": p.text,  # type: ignore[attr-defined]
            "article": articles[(p.law_id, head)],  # type: ignore[attr-defined]
        }
        sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"{len(rows)} provisions drawn from {len(provisions)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

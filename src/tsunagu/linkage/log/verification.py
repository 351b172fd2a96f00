"""``verify_log``: recompute the tree from the entries and check every stored subtree and every signed tree head.

Level by level, in chunks (memory stays flat however long the log): each entry against its leaf hash, each stored
node against the hash of its two stored children (so, by induction, against the entries), the number of nodes at
each level, then each signed tree head's root and signature. A changed entry is named by its index when its leaf
hash no longer matches; when a malicious DBA rewrote the hashes above it too, the first node that disagrees with
its children names its leaves, and when every hash up to the root was rewritten, the signed heads bound the
change between the last head that still verifies and the first that does not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tsunagu.linkage.core import merkle
from tsunagu.linkage.core.treehead import b64
from tsunagu.linkage.log import store
from tsunagu.linkage.log.signer import public_keys, signature_valid

CHUNK = 8192


@dataclass(frozen=True)
class Problem:
    kind: str  # entry | node | nodes-count | head-root | head-signature | head-size
    message: str
    first_index: int  # the first entry index the problem may concern


@dataclass
class LogReport:
    tree_size: int
    root_hash: bytes = merkle.EMPTY_ROOT
    heads_checked: int = 0
    nodes_checked: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad_index(self) -> int | None:
        return min((p.first_index for p in self.problems), default=None)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "tree_size": self.tree_size,
            "root_hash": b64(self.root_hash),
            "heads_checked": self.heads_checked,
            "nodes_checked": self.nodes_checked,
            "first_bad_index": self.first_bad_index,
            "problems": [p.__dict__ for p in self.problems],
        }


def _entries(db: Session, lo: int, hi: int) -> list[tuple[int, bytes, bytes]]:
    e = store.ENTRIES.c
    query = select(e.leaf_index, e.entry, e.leaf_hash).where(e.leaf_index >= lo, e.leaf_index < hi)
    return [(int(i), _bytes(x), _bytes(h)) for i, x, h in db.execute(query.order_by(e.leaf_index))]


def _bytes(value: object) -> bytes:
    """A stored value as bytes, even when someone wrote text into the column behind the application's back."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return str(value).encode()


def _level(db: Session, level: int, lo: int, hi: int) -> dict[int, bytes]:
    """Stored hashes of ``level`` for indexes ``[lo, hi)`` (level 0: the stored leaf hashes)."""
    if level == 0:
        e = store.ENTRIES.c
        rows = db.execute(select(e.leaf_index, e.leaf_hash).where(e.leaf_index >= lo, e.leaf_index < hi))
    else:
        n = store.NODES.c
        rows = db.execute(
            select(n.node_index, n.hash).where(n.level == level, n.node_index >= lo, n.node_index < hi)
        )
    return {int(i): _bytes(h) for i, h in rows}


def _check_entries(db: Session, report: LogReport) -> None:
    expected = 0  # the next index: a gap is a deleted entry
    for lo in range(0, report.tree_size, CHUNK):
        for index, entry, stored in _entries(db, lo, lo + CHUNK):
            if index != expected:
                report.problems.append(
                    Problem("entry", f"entries {expected}..{index - 1} are missing", expected)
                )
            expected = index + 1
            if merkle.leaf_hash(entry) != stored:
                report.problems.append(Problem("entry", f"entry {index} does not match its leaf hash", index))


def _check_nodes(db: Session, report: LogReport) -> None:
    size = report.tree_size
    n = store.NODES.c
    counts = {int(level): int(c) for level, c in db.execute(select(n.level, func.count()).group_by(n.level))}
    for level in sorted(set(counts) | set(range(1, max(size.bit_length(), 1)))):
        expected = size >> level
        held = counts.get(level, 0)
        if held != expected:  # a missing node is also named below; extra ones start where the tree ends
            message = f"level {level} holds {held} nodes, not {expected}"
            report.problems.append(Problem("nodes-count", message, min(held, expected) << level))
        for lo in range(0, expected, CHUNK):
            hi = min(lo + CHUNK, expected)
            parents = _level(db, level, lo, hi)
            children = _level(db, level - 1, 2 * lo, 2 * hi)
            for index in range(lo, hi):
                left, right = children.get(2 * index), children.get(2 * index + 1)
                stored = parents.get(index)
                report.nodes_checked += 1
                if left is None or right is None:  # a deleted entry (or node): name the first one missing
                    first = (2 * index + (left is not None)) << (level - 1)
                    report.problems.append(Problem("node", f"the subtree at entry {first} is missing", first))
                elif stored != merkle.node_hash(left, right):
                    first = index << level
                    report.problems.append(
                        Problem(
                            "node",
                            f"subtree ({level}, {index}) over entries {first}..{first + (1 << level) - 1} "
                            "does not match its children",
                            first,
                        )
                    )


def _check_heads(db: Session, report: LogReport) -> None:
    keys = public_keys(db)
    last_good = 0
    for head in store.heads(db):
        report.heads_checked += 1
        if not signature_valid(head, keys):
            report.problems.append(
                Problem("head-signature", f"the signature of tree head {head.tree_size} does not verify", 0)
            )
        if head.tree_size > report.tree_size:
            report.problems.append(
                Problem(
                    "head-size",
                    f"tree head {head.tree_size} covers more entries than the log holds ({report.tree_size})",
                    report.tree_size,
                )
            )
            continue
        try:
            root_hash = store.root_at(db, head.tree_size)
        except LookupError:
            root_hash = b""
        if root_hash != head.root_hash:
            report.problems.append(
                Problem(
                    "head-root",
                    f"the entries do not give the root signed in tree head {head.tree_size}: an entry in "
                    f"{last_good}..{head.tree_size - 1} was changed",
                    last_good,
                )
            )
        else:
            last_good = head.tree_size


def verify_log(db: Session) -> LogReport:
    """Recompute every leaf, stored subtree and signed root from the entries; report what does not match."""
    report = LogReport(tree_size=store.tree_size(db))
    _check_entries(db, report)
    _check_nodes(db, report)
    try:
        report.root_hash = store.root_at(db, report.tree_size)
    except LookupError:
        report.root_hash = b""
    _check_heads(db, report)
    return report

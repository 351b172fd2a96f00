"""Reading the stored tree: its size, perfect-subtree hashes in one query, frontiers and tree heads."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tsunagu.kernel.errors import NotFound
from tsunagu.linkage.core import merkle
from tsunagu.linkage.core.treehead import TreeHead, from_millis, to_millis
from tsunagu.linkage.log.models import LogEntry, LogHead, LogNode

T = TypeVar("T")
Key = tuple[int, int]
PLACEHOLDER = bytes(merkle.HASH_SIZE)
ENTRIES = LogEntry.metadata.tables[LogEntry.__tablename__]
NODES = LogNode.metadata.tables[LogNode.__tablename__]
HEADS = LogHead.metadata.tables[LogHead.__tablename__]
_LAST_INDEX = select(func.max(ENTRIES.c.leaf_index))


def tree_size(db: Session) -> int:
    """The number of entries (the last index + 1)."""
    last = db.connection().execute(_LAST_INDEX).scalar()
    return 0 if last is None else int(last) + 1


def _lookup_sql(leaves: int, nodes: int, mark: str) -> str:
    """One statement for a proof's subtrees: leaf hashes by key, and stored nodes by their (level, index) key.

    Written as plain SQL with the driver's placeholders: a proof's shape changes with the leaf and the size, so a
    SQLAlchemy expression would be rebuilt and recompiled for each (that cost 10× the queries themselves). Both
    engines walk the primary key for each ORed equality; a row-value ``IN`` scans the table on SQLite."""
    parts = []
    if leaves:
        marks = ", ".join([mark] * leaves)
        where = f"leaf_index IN ({marks})"
        parts.append(f"SELECT 0, leaf_index, leaf_hash FROM linkage_log_entries WHERE {where}")  # noqa: S608
    if nodes:
        terms = " OR ".join([f"(level = {mark} AND node_index = {mark})"] * nodes)
        parts.append(f"SELECT level, node_index, hash FROM linkage_log_nodes WHERE {terms}")  # noqa: S608 - placeholders only
    return " UNION ALL ".join(parts)


def fetch(db: Session, keys: Iterable[Key]) -> dict[Key, bytes]:
    """Hashes of the perfect subtrees ``(level, index)``: leaves from the entries, the rest from the nodes."""
    wanted = set(keys)
    if not wanted:
        return {}
    leaves = [index for level, index in wanted if level == 0]
    inner = [key for key in wanted if key[0] > 0]
    conn = db.connection()
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    params = (*leaves, *(x for key in inner for x in key))
    rows = conn.exec_driver_sql(_lookup_sql(len(leaves), len(inner), mark), params)
    found = {(int(level), int(i)): bytes(h) for level, i, h in rows}
    missing = wanted - found.keys()
    if missing:
        msg = f"the log is missing stored subtrees {sorted(missing)[:3]}… (run tsunagu audit verify)"
        raise LookupError(msg)
    return found


def answer(db: Session, compute: Callable[[merkle.NodeSource], T]) -> T:
    """Run a pure proof algorithm against the store in two passes: note the subtrees it asks for, fetch them all
    in one query each from entries and nodes, then run it again on the fetched hashes."""
    asked: set[Key] = set()

    def record(level: int, index: int) -> bytes:
        asked.add((level, index))
        return PLACEHOLDER

    compute(record)
    found = fetch(db, asked)
    return compute(lambda level, index: found[(level, index)])


def frontier(db: Session, size: int) -> list[tuple[int, bytes]]:
    """The right edge of the tree of ``size`` leaves: its perfect subtrees, largest first."""
    parts = merkle.perfect_subtrees(0, size)
    found = fetch(db, parts)
    return [(level, found[(level, index)]) for level, index in parts]


def root_at(db: Session, size: int) -> bytes:
    return merkle.frontier_root(frontier(db, size))


def head_from_row(row: LogHead) -> TreeHead:
    return TreeHead(
        tree_size=row.tree_size,
        timestamp_ms=to_millis(row.signed_at),
        root_hash=bytes(row.root_hash),
        key_id=bytes(row.key_id),
        signature=bytes(row.signature),
    )


def head_to_row(head: TreeHead) -> LogHead:
    return LogHead(
        tree_size=head.tree_size,
        root_hash=head.root_hash,
        signed_at=from_millis(head.timestamp_ms),
        key_id=head.key_id,
        signature=head.signature,
    )


def head(db: Session, size: int | None = None) -> TreeHead:
    """The signed tree head of ``size`` leaves (the latest when ``size`` is None)."""
    h = HEADS.c
    query = select(h.tree_size, h.signed_at, h.root_hash, h.key_id, h.signature)
    query = query.order_by(h.tree_size.desc()).limit(1) if size is None else query.where(h.tree_size == size)
    row = db.execute(query).first()
    if row is None:
        what = "any tree head" if size is None else f"a tree head of size {size}"
        raise NotFound(
            f"The exchange log has not signed {what}.", ja="その署名付きツリーヘッドはありません。"
        )
    tree_size, signed_at, root_hash, key_id, signature = row
    return TreeHead(int(tree_size), to_millis(signed_at), bytes(root_hash), bytes(key_id), bytes(signature))


def entry(db: Session, leaf_index: int) -> bytes | None:
    found = db.execute(select(ENTRIES.c.entry).where(ENTRIES.c.leaf_index == leaf_index)).scalar()
    return None if found is None else bytes(found)


def heads(db: Session) -> list[TreeHead]:
    return [head_from_row(row) for row in db.scalars(select(LogHead).order_by(LogHead.tree_size))]

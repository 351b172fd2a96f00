"""Services of the exchange log (never commit: the edge owns the transaction).

``append`` adds a batch of entries in the caller's transaction and stores every perfect subtree it completes;
``sign_tree_head`` signs the current root; proofs are answered from stored subtrees in O(log n) reads;
``verify_log`` (in :mod:`verification`) recomputes everything from the entries.
"""

from __future__ import annotations

from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from tsunagu.kernel.clock import Clock
from tsunagu.kernel.errors import InvalidInput
from tsunagu.linkage.core import merkle
from tsunagu.linkage.core.treehead import (
    ConsistencyProof,
    InclusionProof,
    TreeHead,
    to_millis,
    tree_head_data,
)
from tsunagu.linkage.log import store
from tsunagu.linkage.log.models import LogHead
from tsunagu.linkage.log.signer import LogSigner
from tsunagu.linkage.log.verification import LogReport, verify_log

__all__ = [
    "LogReport",
    "append",
    "consistency_proof",
    "inclusion_proof",
    "sign_tree_head",
    "verify_log",
]

_START_WRITE = text("DELETE FROM linkage_log_heads WHERE 1 = 0")
_INSERT_ENTRIES = insert(store.ENTRIES)
_INSERT_NODES = insert(store.NODES)
APPEND_LOCK = 0x7473_756E_6C6F_67  # PostgreSQL advisory lock: one appender at a time ("tsunlog")


def lock(db: Session) -> None:
    """Serialise appenders before they read the tree's size and right edge.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: the sqlite3 module begins a transaction (and the
    writer gate is taken) only at the first write, and reads before it see the database as it is at each
    statement; a write that touches no row starts the write transaction first, so the reads that follow are
    the state this batch extends."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": APPEND_LOCK})
    else:
        db.execute(_START_WRITE)


def append(db: Session, entries: list[bytes], clock: Clock | None = None) -> list[int]:
    """Append ``entries`` as the next leaves; return their indexes. One batch: two multi-row inserts."""
    if not entries:
        return []
    lock(db)
    size = store.tree_size(db)
    edge = store.frontier(db, size)
    now = (clock or Clock()).now()
    entry_rows = []
    node_rows = []
    for offset, entry in enumerate(entries):
        index = size + offset
        leaf = merkle.leaf_hash(entry)
        entry_rows.append({"leaf_index": index, "entry": entry, "leaf_hash": leaf, "appended_at": now})
        for level, digest in merkle.push(edge, leaf):
            node_rows.append({"level": level, "node_index": ((index + 1) >> level) - 1, "hash": digest})
    conn = db.connection()
    conn.execute(_INSERT_ENTRIES, entry_rows)
    if node_rows:
        conn.execute(_INSERT_NODES, node_rows)
    return list(range(size, size + len(entries)))


def sign_tree_head(db: Session, clock: Clock, signer: LogSigner) -> TreeHead:
    """Sign the current tree (once per size: a size already signed returns its head)."""
    size = store.tree_size(db)
    existing = db.get(LogHead, size)
    if existing is not None:
        return store.head_from_row(existing)
    root_hash = store.root_at(db, size)
    timestamp = to_millis(clock.now())
    key_id, signature = signer.sign(db, tree_head_data(timestamp, size, root_hash))
    head = TreeHead(size, timestamp, root_hash, key_id, signature)
    db.add(store.head_to_row(head))
    db.flush()
    return head


def inclusion_proof(db: Session, leaf_index: int, tree_size: int | None = None) -> InclusionProof:
    """Proof that entry ``leaf_index`` is in the signed tree of ``tree_size`` (default: the latest head)."""
    head = store.head(db, tree_size)
    if not 0 <= leaf_index < head.tree_size:
        raise InvalidInput(
            f"Entry {leaf_index} is not in the tree of size {head.tree_size}.",
            ja="そのエントリーはこのツリーに含まれていません。",
        )
    entry = store.entry(db, leaf_index)
    if entry is None:  # pragma: no cover - the size came from this table
        msg = f"entry {leaf_index} vanished"
        raise LookupError(msg)
    path = store.answer(db, lambda source: merkle.inclusion_path(leaf_index, head.tree_size, source))
    return InclusionProof(leaf_index, entry, path, head)


def consistency_proof(db: Session, old: int, new: int) -> ConsistencyProof:
    """Proof that the signed tree of ``new`` leaves extends the signed tree of ``old`` leaves."""
    if not 0 <= old <= new:
        raise InvalidInput(
            f"A consistency proof goes from a smaller tree to a larger one (got {old} → {new}).",
            ja="一貫性証明は小さいツリーから大きいツリーへ求めます。",
        )
    old_head, new_head = store.head(db, old), store.head(db, new)
    path = store.answer(db, lambda source: merkle.consistency_path(old, new, source))
    return ConsistencyProof(old_head, new_head, path)

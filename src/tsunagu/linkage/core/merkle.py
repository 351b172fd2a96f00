"""Merkle Hash Trees as RFC 9162 (Certificate Transparency v2) §2.1 defines them: pure, no I/O.

A tree of ``n`` leaves is split at ``k``, the largest power of two smaller than ``n``. Leaf hash
``SHA-256(0x00 || entry)``, interior node hash ``SHA-256(0x01 || left || right)``; the hash of the empty tree is
``SHA-256()``.

Stored trees answer proofs through a ``node_source(level, index)``: the hash of the *perfect* subtree of
``2**level`` leaves starting at leaf ``index * 2**level`` (level 0 is a leaf hash). Any subtree these algorithms
need is either perfect or the right edge of a tree, which is folded from at most ``log2 n`` perfect subtrees, so a
proof costs O(log n) lookups.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

NodeSource = Callable[[int, int], bytes]
HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(entry: bytes) -> bytes:
    """MTH({d(0)}) = SHA-256(0x00 || d(0))."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || MTH(left) || MTH(right))."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """``k``: the largest power of two strictly smaller than ``n`` (``n > 1``)."""
    return 1 << ((n - 1).bit_length() - 1)


def perfect_subtrees(start: int, size: int) -> list[tuple[int, int]]:
    """The perfect subtrees ``(level, index)`` that make up leaves ``[start, start + size)``, left to right.

    ``start`` must be a multiple of the largest of them (true of every range RFC 9162's recursion visits)."""
    out = []
    offset = start
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            out.append((level, offset >> level))
            offset += 1 << level
    return out


def range_hash(start: int, size: int, node_source: NodeSource) -> bytes:
    """MTH(D[start:start+size]) from the perfect subtrees of the range (folded right to left)."""
    if size == 0:
        return EMPTY_ROOT
    parts = [node_source(level, index) for level, index in perfect_subtrees(start, size)]
    acc = parts[-1]
    for part in reversed(parts[:-1]):
        acc = node_hash(part, acc)
    return acc


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of a whole list of leaf hashes, computed bottom-up with a stack (the right edge, or frontier)."""
    frontier: list[tuple[int, bytes]] = []
    for leaf in leaf_hashes:
        push(frontier, leaf)
    return frontier_root(frontier)


def push(frontier: list[tuple[int, bytes]], leaf: bytes) -> list[tuple[int, bytes]]:
    """Append a leaf to a frontier ``[(level, hash), …]``; return the perfect subtrees it completed."""
    completed = []
    frontier.append((0, leaf))
    while len(frontier) > 1 and frontier[-1][0] == frontier[-2][0]:
        level, right = frontier.pop()
        _, left = frontier.pop()
        frontier.append((level + 1, node_hash(left, right)))
        completed.append(frontier[-1])
    return completed


def frontier_root(frontier: Sequence[tuple[int, bytes]]) -> bytes:
    """The root of the tree whose right edge is ``frontier`` (its perfect subtrees, largest first)."""
    if not frontier:
        return EMPTY_ROOT
    acc = frontier[-1][1]
    for _, part in reversed(frontier[:-1]):
        acc = node_hash(part, acc)
    return acc


def inclusion_path(leaf_index: int, tree_size: int, node_source: NodeSource) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 §2.1.3.1, leaf to root."""
    if not 0 <= leaf_index < tree_size:
        msg = f"leaf index {leaf_index} is not in a tree of size {tree_size}"
        raise ValueError(msg)
    path: list[bytes] = []
    start, size, m = 0, tree_size, leaf_index
    while size > 1:
        k = split_point(size)
        if m < k:
            path.append(range_hash(start + k, size - k, node_source))
            size = k
        else:
            path.append(range_hash(start, k, node_source))
            start, size, m = start + k, size - k, m - k
    path.reverse()
    return path


def consistency_path(old_size: int, new_size: int, node_source: NodeSource) -> list[bytes]:
    """PROOF(m, D[n]) = SUBPROOF(m, D[n], true) of RFC 9162 §2.1.4.1 (empty when m is 0 or m = n)."""
    if not 0 <= old_size <= new_size:
        msg = f"no consistency proof from size {old_size} to size {new_size}"
        raise ValueError(msg)
    if old_size in (0, new_size):
        return []
    path: list[bytes] = []
    start, size, m, whole = 0, new_size, old_size, True
    while m != size:
        k = split_point(size)
        if m <= k:
            path.append(range_hash(start + k, size - k, node_source))
            size = k
        else:
            path.append(range_hash(start, k, node_source))
            start, size, m, whole = start + k, size - k, m - k, False
    if not whole:
        path.append(range_hash(start, size, node_source))
    path.reverse()
    return path


def root_from_inclusion(leaf: bytes, leaf_index: int, tree_size: int, path: Sequence[bytes]) -> bytes | None:
    """The root an inclusion path leads to (RFC 9162 §2.1.3.2), or ``None`` if the path has the wrong shape."""
    if not 0 <= leaf_index < tree_size:
        return None
    fn, sn, r = leaf_index, tree_size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return r if sn == 0 else None


def verify_inclusion(
    leaf: bytes, leaf_index: int, tree_size: int, path: Sequence[bytes], root_hash: bytes
) -> bool:
    """Whether ``path`` proves leaf hash ``leaf`` at ``leaf_index`` in the tree of ``tree_size`` with ``root_hash``."""
    return root_from_inclusion(leaf, leaf_index, tree_size, path) == root_hash


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, path: Sequence[bytes]
) -> bool:
    """Whether ``path`` proves the tree of ``new_size`` extends the one of ``old_size`` (RFC 9162 §2.1.4.2)."""
    if not 0 <= old_size <= new_size:
        return False
    if old_size == 0:  # every tree extends the empty tree; the proof is empty
        return not path and old_root == EMPTY_ROOT
    if old_size == new_size:
        return not path and old_root == new_root
    if not path:
        return False
    proof = list(path)
    if old_size & (old_size - 1) == 0:  # an exact power of two: the old root is the first node
        proof.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root

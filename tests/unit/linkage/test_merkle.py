"""The Merkle tree against RFC 9162's own definitions: a naive recursive MTH, PATH and PROOF written here from the
RFC text, and the independent verifier of ``tests/rfc9162_verifier.py``."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from tsunagu.linkage.core import merkle

from ...rfc9162_verifier import hash_leaf
from ...rfc9162_verifier import verify_consistency as independent_consistency
from ...rfc9162_verifier import verify_inclusion as independent_inclusion


def mth(d: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1, recursively: MTH({}) = HASH(), MTH({d0}) = HASH(0x00||d0), split at k < n."""
    n = len(d)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + d[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + mth(d[:k]) + mth(d[k:])).digest()


def naive_path(m: int, d: list[bytes]) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH(m, D[n])."""
    n = len(d)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*naive_path(m, d[:k]), mth(d[k:])]
    return [*naive_path(m - k, d[k:]), mth(d[:k])]


def naive_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    """RFC 9162 §2.1.4.1 SUBPROOF(m, D[n], b)."""
    n = len(d)
    if m == n:
        return [] if b else [mth(d)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*naive_subproof(m, d[:k], b), mth(d[k:])]
    return [*naive_subproof(m - k, d[k:], False), mth(d[:k])]


def source_for(d: list[bytes]) -> merkle.NodeSource:
    def node(level: int, index: int) -> bytes:
        size = 1 << level
        assert (index + 1) * size <= len(d), "asked for a subtree that is not complete"
        return mth(d[index * size : (index + 1) * size])

    return node


def entries(n: int) -> list[bytes]:
    return [f"exchange {i}".encode() for i in range(n)]


def test_hashes_are_domain_separated() -> None:
    assert merkle.leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert merkle.node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()
    assert merkle.root([]) == hashlib.sha256(b"").digest()


@given(st.lists(st.binary(max_size=8), max_size=70))
def test_root_matches_the_recursive_definition(d: list[bytes]) -> None:
    assert merkle.root([merkle.leaf_hash(x) for x in d]) == mth(d)


@given(st.integers(min_value=0, max_value=1 << 20), st.integers(min_value=1, max_value=1 << 20))
def test_a_range_is_made_of_perfect_subtrees(start_units: int, size: int) -> None:
    top = 1 << (size.bit_length() - 1)
    parts = merkle.perfect_subtrees(start_units * top * 2, size)
    assert sum(1 << level for level, _ in parts) == size
    assert [level for level, _ in parts] == sorted((level for level, _ in parts), reverse=True)


def test_every_inclusion_path_for_small_trees() -> None:
    for n in range(1, 40):
        d = entries(n)
        root = mth(d)
        for m in range(n):
            path = merkle.inclusion_path(m, n, source_for(d))
            assert path == naive_path(m, d), (m, n)
            leaf = merkle.leaf_hash(d[m])
            assert merkle.verify_inclusion(leaf, m, n, path, root)
            assert independent_inclusion(m, n, path, hash_leaf(d[m]), root)


def test_every_consistency_path_for_small_trees() -> None:
    for n in range(1, 40):
        d = entries(n)
        for m in range(n + 1):
            path = merkle.consistency_path(m, n, source_for(d))
            expected = [] if m in (0, n) else naive_subproof(m, d, True)
            assert path == expected, (m, n)
            old_root = mth(d[:m])
            assert merkle.verify_consistency(m, n, old_root, mth(d), path), (m, n)
            assert independent_consistency(m, n, old_root, mth(d), path), (m, n)


@given(st.data())
def test_inclusion_proofs_in_larger_trees(data: st.DataObject) -> None:
    n = data.draw(st.integers(min_value=1, max_value=300))
    m = data.draw(st.integers(min_value=0, max_value=n - 1))
    d = entries(n)
    path = merkle.inclusion_path(m, n, source_for(d))
    assert path == naive_path(m, d)
    assert independent_inclusion(m, n, path, hash_leaf(d[m]), mth(d))


@given(st.data())
def test_consistency_proofs_in_larger_trees(data: st.DataObject) -> None:
    n = data.draw(st.integers(min_value=1, max_value=300))
    m = data.draw(st.integers(min_value=1, max_value=n))
    d = entries(n)
    path = merkle.consistency_path(m, n, source_for(d))
    assert merkle.verify_consistency(m, n, mth(d[:m]), mth(d), path)
    assert independent_consistency(m, n, mth(d[:m]), mth(d), path)


@given(st.data())
def test_a_tampered_proof_or_leaf_is_refused(data: st.DataObject) -> None:
    n = data.draw(st.integers(min_value=2, max_value=100))
    m = data.draw(st.integers(min_value=0, max_value=n - 1))
    d = entries(n)
    root = mth(d)
    leaf = merkle.leaf_hash(d[m])
    path = merkle.inclusion_path(m, n, source_for(d))
    i = data.draw(st.integers(min_value=0, max_value=len(path) - 1))
    bad = [*path[:i], bytes(32), *path[i + 1 :]]
    assert not merkle.verify_inclusion(leaf, m, n, bad, root)
    assert not independent_inclusion(m, n, bad, leaf, root)
    assert not merkle.verify_inclusion(merkle.leaf_hash(b"forged"), m, n, path, root)
    assert not merkle.verify_inclusion(leaf, m, n, path[:-1], root)
    assert not merkle.verify_inclusion(leaf, m, n, [*path, root], root)
    other = (m + 1) % n
    assert not merkle.verify_inclusion(leaf, other, n, path, root) or d[other] == d[m]


@given(st.data())
def test_a_rewritten_history_is_not_consistent(data: st.DataObject) -> None:
    n = data.draw(st.integers(min_value=2, max_value=100))
    m = data.draw(st.integers(min_value=1, max_value=n - 1))
    d = entries(n)
    forged = [*d[: m - 1], b"rewritten", *d[m:]]
    path = merkle.consistency_path(m, n, source_for(forged))
    assert not merkle.verify_consistency(m, n, mth(d[:m]), mth(forged), path)
    assert not independent_consistency(m, n, mth(d[:m]), mth(forged), path)
    good = merkle.consistency_path(m, n, source_for(d))
    assert not merkle.verify_consistency(m, n, mth(d[:m]), mth(d), good[:-1])
    assert not merkle.verify_consistency(m, n, mth(d[:m]), bytes(32), good)


def test_the_frontier_completes_subtrees_as_leaves_arrive() -> None:
    frontier: list[tuple[int, bytes]] = []
    completed = []
    d = entries(8)
    for x in d:
        completed.append([level for level, _ in merkle.push(frontier, merkle.leaf_hash(x))])
    assert completed == [[], [1], [], [1, 2], [], [1], [], [1, 2, 3]]
    assert merkle.frontier_root(frontier) == mth(d)

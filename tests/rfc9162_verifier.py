"""A small, independent RFC 9162 verifier, transcribed step by step from the RFC's text (§2.1.3.2 and §2.1.4.2).

It imports nothing from tsunagu on purpose: an inclusion proof downloaded from the portal, or a consistency proof
between two signed tree heads, must verify here as it would in any other Certificate Transparency v2 client.
Hashes are ``bytes``; proofs as the portal serves them (JSON with base64 hashes) go through :func:`from_json`.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec


def _hash_children(left: bytes, right: bytes) -> bytes:
    # RFC 9162 §2.1.1: MTH(D[n]) = HASH(0x01 || MTH(D[0:k]) || MTH(D[k:n]))
    return hashlib.sha256(bytes([1]) + left + right).digest()


def hash_leaf(entry: bytes) -> bytes:
    # RFC 9162 §2.1.1: MTH({d(0)}) = HASH(0x00 || d(0))
    return hashlib.sha256(bytes([0]) + entry).digest()


def _lsb(value: int) -> bool:
    return value % 2 == 1


def verify_inclusion(
    leaf_index: int, tree_size: int, inclusion_path: list[bytes], leaf: bytes, root_hash: bytes
) -> bool:
    """RFC 9162 §2.1.3.2, "Verifying an Inclusion Proof"."""
    # 1. Compare leaf_index against tree_size. If leaf_index is greater than or equal to tree_size, then fail.
    if leaf_index >= tree_size:
        return False
    # 2. Set fn to leaf_index and sn to tree_size - 1.
    fn = leaf_index
    sn = tree_size - 1
    # 3. Set r to hash.
    r = leaf
    # 4. For each value p in the inclusion_path array:
    for p in inclusion_path:
        # a. If sn is 0, then stop the iteration and fail the proof verification.
        if sn == 0:
            return False
        # b. If LSB(fn) is set, or if fn is equal to sn, then:
        if _lsb(fn) or fn == sn:
            # i. Set r to HASH(0x01 || p || r).
            r = _hash_children(p, r)
            # ii. If LSB(fn) is not set, then right-shift both fn and sn equally until either LSB(fn) is set
            #     or fn is 0.
            if not _lsb(fn):
                while not (_lsb(fn) or fn == 0):
                    fn //= 2
                    sn //= 2
        # Otherwise: i. Set r to HASH(0x01 || r || p).
        else:
            r = _hash_children(r, p)
        # c. Finally, right-shift both fn and sn one time.
        fn //= 2
        sn //= 2
    # 5. Compare sn to 0. Compare r against the root_hash. If sn is equal to 0 and r and the root_hash are equal,
    #    then the log has proven the inclusion of hash. Otherwise, fail the proof verification.
    return sn == 0 and r == root_hash


def verify_consistency(
    first: int, second: int, first_hash: bytes, second_hash: bytes, consistency_path: list[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2, "Verifying Consistency between Two Tree Heads" (for 0 < first < second).

    The RFC leaves first = 0 and first = second to the client: the empty tree is a prefix of every tree, and a tree
    is consistent with itself; in both cases the proof is empty (§2.1.4.1)."""
    if first == 0:
        return not consistency_path
    if first == second:
        return not consistency_path and first_hash == second_hash
    if first > second:
        return False
    # 1. If consistency_path is an empty array, stop and fail the proof verification.
    if not consistency_path:
        return False
    path = list(consistency_path)
    # 2. If first is an exact power of 2, then prepend first_hash to the consistency_path array.
    if first & (first - 1) == 0:
        path = [first_hash, *path]
    # 3. Set fn to first - 1 and sn to second - 1.
    fn = first - 1
    sn = second - 1
    # 4. If LSB(fn) is set, then right-shift both fn and sn equally until LSB(fn) is not set.
    while _lsb(fn):
        fn //= 2
        sn //= 2
    # 5. Set both fr and sr to the first value in the consistency_path array.
    fr = sr = path[0]
    # 6. For each subsequent value c in the consistency_path array:
    for c in path[1:]:
        # a. If sn is 0, then stop the iteration and fail the proof verification.
        if sn == 0:
            return False
        # b. If LSB(fn) is set, or if fn is equal to sn, then:
        if _lsb(fn) or fn == sn:
            # i. Set fr to HASH(0x01 || c || fr). Set sr to HASH(0x01 || c || sr).
            fr = _hash_children(c, fr)
            sr = _hash_children(c, sr)
            # ii. If LSB(fn) is not set, then right-shift both fn and sn equally until either LSB(fn) is set
            #     or fn is 0.
            if not _lsb(fn):
                while not (_lsb(fn) or fn == 0):
                    fn //= 2
                    sn //= 2
        # Otherwise: i. Set sr to HASH(0x01 || sr || c).
        else:
            sr = _hash_children(sr, c)
        # c. Finally, right-shift both fn and sn one time.
        fn //= 2
        sn //= 2
    # 7. Verify that fr equals first_hash, that sr equals second_hash, and that sn is 0.
    return fr == first_hash and sr == second_hash and sn == 0


def verify_inclusion_json(proof: dict[str, Any]) -> bool:
    """Verify an inclusion proof as the portal serves it: the entry, the path and the tree head's root."""
    entry = base64.b64decode(proof["entry"])
    path = [base64.b64decode(h) for h in proof["inclusion_path"]]
    root_hash = base64.b64decode(proof["tree_head"]["root_hash"])
    if proof["tree_head"]["tree_size"] != proof["tree_size"]:
        return False
    return verify_inclusion(proof["leaf_index"], proof["tree_size"], path, hash_leaf(entry), root_hash)


def verify_tree_head_signature(tree_head: dict[str, Any], public_key_der: bytes) -> bool:
    """An ES256 signature over the TLS encoding of ``TreeHeadDataV2`` (RFC 9162 §4.9): uint64 timestamp,
    uint64 tree_size, opaque root_hash<32..2^8-1>, Extension sth_extensions<0..2^16-1> (empty)."""
    root_hash = base64.b64decode(tree_head["root_hash"])
    data = struct.pack(">QQ", tree_head["timestamp"], tree_head["tree_size"])
    data += bytes([len(root_hash)]) + root_hash + struct.pack(">H", 0)
    key = serialization.load_der_public_key(public_key_der)
    assert isinstance(key, ec.EllipticCurvePublicKey)
    if base64.b64decode(tree_head["key_id"]) != hashlib.sha256(public_key_der).digest():
        return False
    try:
        key.verify(base64.b64decode(tree_head["signature"]), data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True

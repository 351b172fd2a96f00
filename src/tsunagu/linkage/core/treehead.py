"""Signed tree heads and proofs as data: RFC 9162's TreeHeadDataV2 serialisation and the JSON shapes served.

The bytes signed are the TLS encoding of ``TreeHeadDataV2`` (RFC 9162 §4.9): ``uint64 timestamp`` (milliseconds
since the epoch), ``uint64 tree_size``, ``opaque root_hash<32..2^8-1>`` (a one-byte length, then the hash) and an
empty ``sth_extensions<0..2^16-1>`` (two zero bytes). Hashes travel as standard base64 in JSON.
"""

from __future__ import annotations

import base64
import datetime as dt
import struct
from dataclasses import dataclass
from typing import Any

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MILLISECOND = dt.timedelta(milliseconds=1)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def to_millis(at: dt.datetime) -> int:
    return (at - EPOCH) // MILLISECOND


def from_millis(ms: int) -> dt.datetime:
    return EPOCH + ms * MILLISECOND


def tree_head_data(timestamp_ms: int, tree_size: int, root_hash: bytes) -> bytes:
    """TLS-encoded ``TreeHeadDataV2`` with no extensions: the exact bytes the log signs."""
    return struct.pack(">QQB", timestamp_ms, tree_size, len(root_hash)) + root_hash + b"\x00\x00"


@dataclass(frozen=True)
class TreeHead:
    """A signed tree head (STH)."""

    tree_size: int
    timestamp_ms: int
    root_hash: bytes
    key_id: bytes
    signature: bytes

    def signed_bytes(self) -> bytes:
        return tree_head_data(self.timestamp_ms, self.tree_size, self.root_hash)

    def to_json(self) -> dict[str, Any]:
        return {
            "tree_size": self.tree_size,
            "timestamp": self.timestamp_ms,
            "root_hash": b64(self.root_hash),
            "key_id": b64(self.key_id),
            "signature": b64(self.signature),
            "signature_algorithm": "ES256",
        }


@dataclass(frozen=True)
class InclusionProof:
    """Proof that ``entry`` is leaf ``leaf_index`` of the tree under ``tree_head``."""

    leaf_index: int
    entry: bytes
    inclusion_path: list[bytes]
    tree_head: TreeHead

    @property
    def tree_size(self) -> int:
        return self.tree_head.tree_size

    def to_json(self) -> dict[str, Any]:
        return {
            "tree_size": self.tree_size,
            "leaf_index": self.leaf_index,
            "entry": b64(self.entry),
            "inclusion_path": [b64(h) for h in self.inclusion_path],
            "tree_head": self.tree_head.to_json(),
        }


@dataclass(frozen=True)
class ConsistencyProof:
    """Proof that the tree under ``new`` extends the tree under ``old``."""

    old: TreeHead
    new: TreeHead
    consistency_path: list[bytes]

    def to_json(self) -> dict[str, Any]:
        return {
            "old_size": self.old.tree_size,
            "new_size": self.new.tree_size,
            "consistency_path": [b64(h) for h in self.consistency_path],
            "old_tree_head": self.old.to_json(),
            "new_tree_head": self.new.to_json(),
        }

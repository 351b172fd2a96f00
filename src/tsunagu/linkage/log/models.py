"""Tables of the exchange log; all four are append-only (database triggers refuse UPDATE and DELETE).

``linkage_log_nodes`` holds the hash of every complete perfect subtree of two or more leaves, written when its last
leaf is appended (level 0, the leaf hashes, live in ``linkage_log_entries``), so any proof needs O(log n) reads.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Integer, LargeBinary, SmallInteger
from sqlalchemy.orm import Mapped, mapped_column

from tsunagu.db.base import Base
from tsunagu.db.types import UTCDateTime

# BIGINT on PostgreSQL; on SQLite an INTEGER primary key is the rowid itself (no second index)
Position = BigInteger().with_variant(Integer(), "sqlite")


class LogEntry(Base):
    """One exchange record: the leaf ``leaf_index`` of the tree."""

    __tablename__ = "linkage_log_entries"

    leaf_index: Mapped[int] = mapped_column(Position, primary_key=True, autoincrement=False)
    entry: Mapped[bytes] = mapped_column(LargeBinary)  # the logged bytes (canonical JSON of the exchange)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))  # SHA-256(0x00 || entry)
    appended_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class LogNode(Base):
    """The hash of the perfect subtree of ``2**level`` leaves starting at leaf ``node_index * 2**level``."""

    __tablename__ = "linkage_log_nodes"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    node_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LogHead(Base):
    """A signed tree head: ES256 over RFC 9162's TreeHeadDataV2 (timestamp, tree size, root hash)."""

    __tablename__ = "linkage_log_heads"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    signed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)  # whole milliseconds: the signed timestamp
    key_id: Mapped[bytes] = mapped_column(
        LargeBinary(32)
    )  # SHA-256 of the signing key's SubjectPublicKeyInfo
    signature: Mapped[bytes] = mapped_column(LargeBinary)  # DER ECDSA P-256 / SHA-256


class LogKey(Base):
    """The log's signing key: public key in clear, private key sealed under the master secret."""

    __tablename__ = "linkage_log_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_id: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)  # SubjectPublicKeyInfo DER
    sealed_key: Mapped[bytes] = mapped_column(LargeBinary)  # nonce || AES-GCM(PKCS#8 DER)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

"""Tables of the credentials domain (SMART Health Cards). Rows of other domains are referred to by id only (a
registry person id, health dose ids): no relationship crosses a domain.

- ``cred_shc_cards``: every card issued: whose, under which key (``kid``) and revocation id (``rid``), the variant
  (domestic 国内用 / overseas 海外用), ``nbf``, and the dose ids it covers; the signed JWS sealed with AES-256-GCM
  (an overseas card carries the passport number, which is never stored in clear), so the QR image and the files
  downloaded later are the same card. The list shows only the passport number's last two characters.
- ``cred_shc_revocations``: revoked ``rid`` values per key, with when and why (the CRL is built from these).
- ``cred_shc_crl_versions``: the CRL counter (``ctr``, the JWK's ``crlVersion``) per key, bumped on each revocation.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tsunagu.db.base import Base
from tsunagu.db.types import UTCDateTime


class IssuedCard(Base):
    """One SMART Health Card issued to a person (接種証明書)."""

    __tablename__ = "cred_shc_cards"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)  # random, in download links
    person_id: Mapped[int] = mapped_column(Integer, index=True)  # registry person id
    kid: Mapped[str] = mapped_column(String(64))
    rid: Mapped[str] = mapped_column(String(16), index=True)
    variant: Mapped[str] = mapped_column(String(10))  # domestic | overseas
    nbf: Mapped[int] = mapped_column(Integer)  # the card's nbf (Unix seconds)
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    dose_ids: Mapped[list[Any]] = mapped_column(JSON)  # health dose ids covered
    jws_sealed: Mapped[bytes] = mapped_column(LargeBinary)  # AES-GCM, context credentials.shc.card
    passport_hint: Mapped[str] = mapped_column(String(4), default="")  # last two characters, overseas only


class Revocation(Base):
    """A revoked ``rid`` of one key: every card of that person under that key issued before ``revoked_at``."""

    __tablename__ = "cred_shc_revocations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), index=True)
    rid: Mapped[str] = mapped_column(String(16))
    revoked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("kid", "rid", name="uq_cred_shc_revocations_kid_rid"),)


class CrlVersion(Base):
    """The CRL counter of one signing key (``ctr`` in the CRL, ``crlVersion`` in the JWK)."""

    __tablename__ = "cred_shc_crl_versions"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    ctr: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

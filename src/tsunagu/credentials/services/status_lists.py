"""Token Status Lists of the SD-JWT VCs this platform issues (draft-ietf-oauth-status-list).

Every credential gets an index in a list when it is issued. The index is drawn at random among the list's free ones
(the draft's advice: sequential indices would tell a verifier the order and rough time of issuance and let two
verifiers link a holder), under a row lock on the list, and the pair (list, index) is unique, so an index is never
given twice, even after a revocation. A list of ``LIST_SIZE`` one-bit entries takes at most ``FILL`` of them, so a
random draw finds a free index quickly; a filled list is followed by a new one. The token is built on request from
the issued credentials (1 for each revoked one), signed with the issuer key."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from tsunagu.credentials.core.statuslist import Status, StatusList, encode_token
from tsunagu.credentials.models_sdjwt import IssuedSdJwt, StatusListRow
from tsunagu.credentials.services.sdjwt_keys import IssuerKey
from tsunagu.kernel.errors import NotFound

__all__ = ["FILL", "LIST_SIZE", "TOKEN_TTL", "allocate", "status_list", "status_of", "status_token"]

LIST_SIZE = 16 * 1024  # entries (2 KiB of bits before compression)
FILL = LIST_SIZE // 2  # indices handed out per list, at most
TOKEN_TTL = 300  # seconds a verifier may cache the token (``ttl``); it expires after a day


def allocate(db: Session, *, now: dt.datetime) -> tuple[int, int]:
    """A fresh (list id, index) for a new credential: a free index drawn at random."""
    row = db.scalars(
        select(StatusListRow)
        .where(StatusListRow.allocated < FILL)
        .order_by(StatusListRow.id)
        .limit(1)
        .with_for_update()
    ).first()
    if row is None:
        row = StatusListRow(bits=1, size=LIST_SIZE, allocated=0, created_at=now, updated_at=now)
        db.add(row)
        db.flush()
    taken = set(db.scalars(select(IssuedSdJwt.status_index).where(IssuedSdJwt.status_list_id == row.id)))
    index = secrets.randbelow(row.size)
    while index in taken:
        index = secrets.randbelow(row.size)
    row.allocated += 1
    row.updated_at = now
    db.flush()
    return row.id, index


def status_list(db: Session, list_id: int) -> StatusList:
    """The list as it stands: 1 (invalid) at every revoked credential's index."""
    row = db.get(StatusListRow, list_id)
    if row is None:
        raise NotFound("No such status list.", ja="該当する失効リストはありません。")
    built = StatusList(row.size, row.bits)
    revoked = db.scalars(
        select(IssuedSdJwt.status_index).where(
            IssuedSdJwt.status_list_id == list_id, IssuedSdJwt.revoked_at.is_not(None)
        )
    )
    for index in revoked:
        built.set(index, Status.INVALID)
    return built


def status_of(db: Session, list_id: int, index: int) -> int:
    """The status at one index (``LookupError`` for an unknown list or an index outside it)."""
    row = db.get(StatusListRow, list_id)
    if row is None or not 0 <= index < row.size:
        raise LookupError(f"no status list entry {list_id}/{index}")
    revoked = db.scalar(
        select(IssuedSdJwt.id).where(
            IssuedSdJwt.status_list_id == list_id,
            IssuedSdJwt.status_index == index,
            IssuedSdJwt.revoked_at.is_not(None),
        )
    )
    return int(Status.INVALID) if revoked is not None else int(Status.VALID)


def status_token(db: Session, key: IssuerKey, list_id: int, *, now: dt.datetime) -> str:
    """The signed ``statuslist+jwt`` of one list (``sub`` is its URI)."""
    built = status_list(db, list_id)
    iat = int(now.timestamp())
    return encode_token(
        built,
        key=key.key,
        kid=key.kid,
        iss=key.iss,
        uri=key.status_uri(list_id),
        iat=iat,
        exp=iat + 24 * 3600,
        ttl=TOKEN_TTL,
    )

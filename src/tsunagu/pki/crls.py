"""What a CA's CRL says and whether the last one signed can be served again (the signing is in services)."""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from tsunagu.pki.core import profiles
from tsunagu.pki.core.types import RevocationReason
from tsunagu.pki.models import Certificate, CrlState

LIFETIME = dt.timedelta(hours=24)  # nextUpdate - thisUpdate
REFRESH = dt.timedelta(hours=12)  # a CRL older than this is re-signed even if its content is unchanged


def revoked_entries(db: Session, authority_id: int) -> tuple[list[profiles.RevokedEntry], str]:
    """The revoked certificates of a CA, and a digest of that list (what a CRL would say)."""
    rows = db.execute(
        select(Certificate.serial, Certificate.revoked_at, Certificate.revocation_reason)
        .where(Certificate.authority_id == authority_id, Certificate.revoked_at.is_not(None))
        .order_by(Certificate.revoked_at, Certificate.serial)
    )
    entries = [
        profiles.RevokedEntry(int(serial, 16), revoked_at, RevocationReason(reason or "unspecified"))
        for serial, revoked_at, reason in rows
        if revoked_at is not None
    ]
    listing = "\n".join(f"{e.serial:x} {e.revoked_at.isoformat()} {e.reason.value}" for e in entries)
    return entries, hashlib.sha256(listing.encode()).hexdigest()


def last_crl(db: Session, authority_id: int) -> CrlState | None:
    stmt = select(CrlState).where(CrlState.authority_id == authority_id)
    return db.scalars(stmt.execution_options(populate_existing=True)).one_or_none()


def servable(state: CrlState | None, digest: str, now: dt.datetime) -> bytes | None:
    """The last CRL if it can be served again (same content, still fresh), else ``None``."""
    if state is not None and state.content_digest == digest and now < state.this_update + REFRESH:
        return state.der
    return None

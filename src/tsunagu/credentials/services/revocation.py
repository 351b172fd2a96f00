"""Revoking SMART Health Cards (spec: ``rid`` CRLs) and serving the issuer's keys and CRL.

A revocation lists ``rid.timestamp`` in the key's CRL: every card of that person under that key with ``nbf`` before
the revocation is revoked, and a card issued afterwards (for instance after a dose was corrected) is valid. Each
revocation bumps the key's CRL counter (``ctr`` in the CRL, ``crlVersion`` in the JWK), as verifiers that cache the
CRL expect. The caller owns the transaction; every revocation is audited."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tsunagu.audit import api as audit
from tsunagu.credentials.context import CredentialsContext
from tsunagu.credentials.core import shc
from tsunagu.credentials.models import CrlVersion, IssuedCard, Revocation
from tsunagu.health import api as health
from tsunagu.kernel.errors import NotFound

REASON_MAX = 200
DOSE_CORRECTED = "dose corrected"


def crl_version(db: Session, kid: str) -> int:
    row = db.get(CrlVersion, kid)
    return row.ctr if row is not None else 0


def _stamp(revocation: Revocation) -> int:
    """The CRL timestamp: cards with ``nbf`` before it are revoked. One second after the revocation, so a card
    issued in the same second (``nbf`` is whole seconds) is revoked too rather than slipping through."""
    return int(revocation.revoked_at.timestamp()) + 1


def revoked_since(db: Session, kid: str, rid: str) -> int | None:
    """The CRL timestamp of ``rid`` under ``kid`` (cards with ``nbf`` before it are revoked), or None."""
    row = db.scalar(select(Revocation).where(Revocation.kid == kid, Revocation.rid == rid))
    return _stamp(row) if row is not None else None


def _bump(db: Session, ctx: CredentialsContext, kid: str) -> int:
    """The key's CRL counter plus one. The counter row is created with INSERT … ON CONFLICT DO NOTHING and then
    locked, so two first revocations at the same moment queue on the row instead of one failing on the key."""
    now = ctx.clock.now()
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    db.execute(
        dialect.insert(CrlVersion)
        .values(kid=kid, ctr=0, updated_at=now)
        .on_conflict_do_nothing(index_elements=["kid"])
    )
    row = db.execute(
        select(CrlVersion)
        .where(CrlVersion.kid == kid)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    row.ctr += 1
    row.updated_at = now
    db.flush()
    return row.ctr


def revoke(db: Session, ctx: CredentialsContext, rid: str, *, reason: str, actor: str) -> int:
    """Revoke ``rid`` under the current key (the cards of that person issued until now); returns the new CRL
    version. NotFound when no card with that rid was issued under the key."""
    kid = ctx.kid
    card = db.scalar(select(IssuedCard).where(IssuedCard.kid == kid, IssuedCard.rid == rid).limit(1))
    if card is None:
        raise NotFound(
            f"No card with rid {rid!r} was issued under the current key.",
            ja="その失効用ID（rid）の証明書は発行されていません。",
        )
    now = ctx.clock.now()
    reason = " ".join(reason.split())[:REASON_MAX] or "-"
    row = db.scalar(select(Revocation).where(Revocation.kid == kid, Revocation.rid == rid))
    if row is None:
        db.add(Revocation(kid=kid, rid=rid, revoked_at=now, reason=reason, actor=actor[:64]))
    else:  # a later revocation covers every card the earlier one did, and the ones issued since
        row.revoked_at, row.reason, row.actor = now, reason, actor[:64]
    version = _bump(db, ctx, kid)
    audit.record(
        db,
        actor,
        audit.AuditAction.CREDENTIAL_SHC_REVOKED,
        f"person:{card.person_id}",
        rid=rid,
        crl_version=version,
        reason=reason,
    )
    return version


def revoke_for_doses(
    db: Session, ctx: CredentialsContext, person_id: int, dose_ids: set[int], *, reason: str, actor: str
) -> int | None:
    """Revoke the person's cards that show any of ``dose_ids`` (a corrected dose); None when there is none."""
    rows = db.scalars(select(IssuedCard).where(IssuedCard.person_id == person_id, IssuedCard.kid == ctx.kid))
    showing = [r for r in rows if dose_ids & {int(d) for d in r.dose_ids}]
    if not showing:
        return None
    return revoke(db, ctx, showing[0].rid, reason=reason, actor=actor)


def dose_listener(ctx: CredentialsContext) -> Callable[[Session, health.DoseChange], None]:
    """For the shell to give the health domain: a corrected dose revokes the cards that showed the old entry."""

    def on_change(db: Session, change: health.DoseChange) -> None:
        if change.superseded_dose_id is None:
            return
        revoke_for_doses(
            db,
            ctx,
            change.person_id,
            {change.superseded_dose_id},
            reason=DOSE_CORRECTED,
            actor="system:health",
        )

    return on_change


def jwks(db: Session, ctx: CredentialsContext) -> dict[str, Any]:
    """``{iss}/.well-known/jwks.json``: the issuer's key, with ``crlVersion`` once it has revoked a card."""
    return {"keys": [ctx.public_jwk(crl_version(db, ctx.kid))]}


def crl(db: Session, ctx: CredentialsContext, kid: str) -> dict[str, Any]:
    """``{iss}/.well-known/crl/{kid}.json``; NotFound for a key this issuer does not have."""
    if kid != ctx.kid:
        raise NotFound("No such key.", ja="該当する鍵はありません。")
    rows = db.scalars(select(Revocation).where(Revocation.kid == kid).order_by(Revocation.id)).all()
    entries = [f"{r.rid}.{_stamp(r)}" for r in rows]
    return shc.crl_document(kid, crl_version(db, kid), entries)


def own_crls(db: Session, ctx: CredentialsContext) -> dict[str, dict[str, Any]]:
    """The platform's own CRL for the verifier, when it has one (a CRL at version 0 matches no ``crlVersion``)."""
    return {ctx.kid: crl(db, ctx, ctx.kid)} if crl_version(db, ctx.kid) else {}

"""Issuing SD-JWT VCs to a resident's wallet: an age credential (from the registry's birth date), a driver's
licence and national qualifications (from ``cred_licences`` and ``cred_qualifications``), each bound to the
holder's public key (``cnf.jwk``) and given a Token Status List entry. Revocation sets the entry to 1.

Services never commit: the caller (a page, the API, the CLI) owns the transaction. Every issuance and revocation
is audited with the credential id and kind only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from tsunagu.audit import api as audit
from tsunagu.credentials.core import sdjwt, sdjwt_claims
from tsunagu.credentials.core.sdjwt_jws import MalformedToken, jwk_thumbprint, key_from_jwk
from tsunagu.credentials.models_sdjwt import IssuedSdJwt, Licence, Qualification
from tsunagu.credentials.services import status_lists
from tsunagu.credentials.services.sdjwt_keys import IssuerKey, issuer_key
from tsunagu.kernel.errors import Forbidden, InvalidInput, NotFound
from tsunagu.registry import api as registry
from tsunagu.settings import Settings

__all__ = [
    "KINDS",
    "CredentialView",
    "HolderKeyInvalid",
    "Issued",
    "NotEligible",
    "Offer",
    "credentials_of",
    "issue_for",
    "offers_for",
    "revoke",
    "revoke_for_person",
    "revoke_for_source",
    "set_licence_state",
]

KINDS = ("age", "driving_licence", "qualification")
VCTS = {
    "age": sdjwt_claims.AGE_VCT,
    "driving_licence": sdjwt_claims.DRIVING_LICENCE_VCT,
    "qualification": sdjwt_claims.QUALIFICATION_VCT,
}
TITLES = {
    "age": ("年齢確認（20歳以上・18歳以上）", "Age (over 20, over 18)"),
    "driving_licence": ("運転免許証", "Driver's licence"),
    "qualification": ("国家資格", "National qualification"),
}
VALIDITY = dt.timedelta(days=365)  # a credential is re-issued after a year at the latest
REVOCATION_REASONS = frozenset(
    {"holder_request", "licence_revoked", "licence_suspended", "qualification_revoked", "deceased", "staff"}
)


class HasSettings(Protocol):
    """What issuance needs of the credentials context: the settings (the issuer key is derived from them)."""

    @property
    def settings(self) -> Settings: ...


@dataclass(frozen=True)
class Offer:
    kind: str
    vct: str
    title_ja: str
    title_en: str
    available: bool


@dataclass(frozen=True)
class Issued:
    credential_id: int
    kind: str
    vct: str
    compact: str  # <issuer-jwt>~<disclosure>~…~ (every disclosure; the wallet keeps it)
    expires_at: dt.datetime


@dataclass(frozen=True)
class CredentialView:
    credential_id: int
    kind: str
    vct: str
    issued_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    revoked_reason: str | None
    holder_thumbprint: str


class HolderKeyInvalid(InvalidInput):
    """The holder key is not a public EC P-256 JWK (or carries the private key)."""

    code = "holder-key-invalid"
    title = "The holder key is not usable"

    def __init__(self, message_en: str, message_ja: str) -> None:
        super().__init__(message_en, ja=message_ja, field="holder_jwk")
        self.message_en = message_en
        self.message_ja = message_ja


class NotEligible(Forbidden):
    """The person holds no such licence or qualification (or it is not valid), or the kind is unknown."""

    code = "not-eligible"
    title = "No such credential can be issued to this person"

    def __init__(self, message_en: str, message_ja: str) -> None:
        super().__init__(message_en, ja=message_ja)
        self.message_en = message_en
        self.message_ja = message_ja


def _licence(db: Session, person_id: int) -> Licence | None:
    return db.scalar(select(Licence).where(Licence.person_id == person_id))


def _qualifications(db: Session, person_id: int) -> list[Qualification]:
    return list(
        db.scalars(
            select(Qualification)
            .where(Qualification.person_id == person_id, Qualification.state == "valid")
            .order_by(Qualification.id)
        )
    )


def _licence_usable(licence: Licence | None, today: dt.date) -> bool:
    return licence is not None and licence.state == "valid" and licence.expiry_date >= today


def offers_for(db: Session, person_id: int, *, today: dt.date) -> list[Offer]:
    """What the person may put in a wallet: the age credential always (unless deceased); a licence or a
    qualification only when one is held (``available`` is False for a suspended, revoked or expired licence)."""
    facts = registry.basic_facts(db, person_id)
    offers = [Offer("age", VCTS["age"], *TITLES["age"], facts.status != "deceased")]
    licence = _licence(db, person_id)
    if licence is not None:
        offers.append(
            Offer(
                "driving_licence",
                VCTS["driving_licence"],
                *TITLES["driving_licence"],
                facts.status != "deceased" and _licence_usable(licence, today),
            )
        )
    qualifications = _qualifications(db, person_id)
    if qualifications:
        ja = "、".join(q.name for q in qualifications)
        offers.append(
            Offer(
                "qualification",
                VCTS["qualification"],
                f"{TITLES['qualification'][0]}（{ja}）",
                TITLES["qualification"][1],
                facts.status != "deceased",
            )
        )
    return offers


def holder_binding(holder_jwk: object) -> dict[str, str]:
    """The public P-256 JWK to bind (``kty``, ``crv``, ``x``, ``y`` only); :class:`HolderKeyInvalid` otherwise."""
    if isinstance(holder_jwk, dict) and "d" in holder_jwk:
        raise HolderKeyInvalid(
            'This is a private key: send only the public key (a JWK without "d"). Keep the private key in '
            "your wallet and never share it.",
            '秘密鍵が含まれています。公開鍵（"d" のない JWK）だけを送ってください。秘密鍵はウォレットの中に'
            "保管し、誰にも渡さないでください。",
        )
    try:
        key_from_jwk(holder_jwk)
    except MalformedToken as exc:
        raise HolderKeyInvalid(
            f"The holder key must be a public EC P-256 JWK ({exc}).",
            "所持者の鍵は EC P-256 の公開鍵（JWK）でなければなりません。",
        ) from exc
    assert isinstance(holder_jwk, dict)  # key_from_jwk accepted it  # noqa: S101
    return {name: str(holder_jwk[name]) for name in ("kty", "crv", "x", "y")}


def _address(facts: registry.BasicFacts) -> dict[str, str]:
    home = registry.municipalities().get(facts.lg_code)
    street = f"{facts.town}{facts.block}" + (f" {facts.building}" if facts.building else "")
    address = {"street_address": street}
    if home is not None:
        address = {"region": home.prefecture, "locality": home.name, **address}
    return address


def _claim_set(
    db: Session, facts: registry.BasicFacts, kind: str, today: dt.date, qualification_id: int | None
) -> tuple[sdjwt_claims.ClaimSet, int | None, dt.date | None]:
    """The claims, the source row id and the source's own end date."""
    if kind == "age":
        claims = sdjwt_claims.age_credential(
            facts.birth_date, today, family_name=facts.family_name, given_name=facts.given_name
        )
        return claims, None, None
    if kind == "driving_licence":
        licence = _licence(db, facts.person_id)
        if licence is None or not _licence_usable(licence, today):
            raise NotEligible(
                "No valid driver's licence is recorded for this person.",
                "有効な運転免許の記録がありません。",
            )
        claims = sdjwt_claims.driving_licence(
            family_name=facts.family_name,
            given_name=facts.given_name,
            birth_date=facts.birth_date,
            address=_address(facts),
            document_number=licence.number,
            issue_date=licence.issue_date,
            expiry_date=licence.expiry_date,
            issuing_authority=licence.authority,
            licence_colour=licence.colour,
            privileges={code: dt.date.fromisoformat(since) for code, since in licence.categories.items()},
            conditions=tuple(licence.conditions),
        )
        return claims, licence.id, licence.expiry_date
    held = [q for q in _qualifications(db, facts.person_id) if qualification_id in (None, q.id)]
    if not held:
        raise NotEligible(
            "No such national qualification is recorded for this person.",
            "該当する国家資格の記録がありません。",
        )
    q = held[0]
    claims = sdjwt_claims.qualification(
        family_name=facts.family_name,
        given_name=facts.given_name,
        birth_date=facts.birth_date,
        code=q.code,
        name=q.name,
        registration_number=q.registration_number,
        registration_date=q.registration_date,
        issuing_authority=q.authority,
    )
    return claims, q.id, None


def issue_for(
    db: Session,
    ctx: HasSettings,
    person_id: int,
    kind: str,
    holder_jwk: dict[str, Any],
    *,
    now: dt.datetime,
    actor: str | None = None,
    qualification_id: int | None = None,
) -> Issued:
    """Issue one SD-JWT VC of ``kind`` to the person, bound to ``holder_jwk``. Every subject claim is selectively
    disclosable; the holder chooses what to show. :class:`NotEligible` for an unknown kind, a deceased person
    or a licence or qualification not held; :class:`HolderKeyInvalid` for a bad key."""
    if kind not in KINDS:
        raise NotEligible(f"Unknown credential kind {kind!r}.", "この種類の資格情報は発行できません。")
    cnf = holder_binding(holder_jwk)
    facts = registry.basic_facts(db, person_id)
    if facts.status == "deceased":
        raise NotEligible("The person is recorded as deceased.", "死亡の記録があるため発行できません。")
    today = now.astimezone(dt.timezone(dt.timedelta(hours=9))).date()
    claims, source_id, source_end = _claim_set(db, facts, kind, today, qualification_id)
    expires_at = now + VALIDITY
    if source_end is not None:
        expires_at = min(expires_at, dt.datetime.combine(source_end, dt.time(23, 59, 59), tzinfo=dt.UTC))
    list_id, index = status_lists.allocate(db, now=now)
    key: IssuerKey = issuer_key(ctx.settings)
    row = IssuedSdJwt(
        person_id=person_id,
        kind=kind,
        vct=claims.vct,
        source_id=source_id,
        holder_thumbprint=jwk_thumbprint(cnf),
        status_list_id=list_id,
        status_index=index,
        issued_at=now,
        expires_at=expires_at,
    )
    db.add(row)
    db.flush()
    compact = sdjwt.issue(
        claims.claims,
        disclosable=claims.disclosable,
        key=key.key,
        kid=key.kid,
        iss=key.iss,
        vct=claims.vct,
        iat=int(now.timestamp()),
        exp=int(expires_at.timestamp()),
        holder_jwk=cnf,
        status=sdjwt.StatusReference(index, key.status_uri(list_id)),
        decoys=2,
    )
    audit.record(
        db,
        actor or f"person:{person_id}",
        audit.AuditAction.CREDENTIAL_SDJWT_ISSUED,
        f"sdjwt:{row.id}",
        kind=kind,
        person=f"person:{person_id}",
    )
    return Issued(row.id, kind, claims.vct, compact, expires_at)


def _view(row: IssuedSdJwt) -> CredentialView:
    return CredentialView(
        row.id, row.kind, row.vct, row.issued_at, row.expires_at, row.revoked_at, row.revoked_reason,
        row.holder_thumbprint,
    )  # fmt: skip


def credentials_of(db: Session, person_id: int) -> list[CredentialView]:
    """Every SD-JWT VC issued to the person, newest first (no token: the wallet holds it)."""
    rows = db.scalars(
        select(IssuedSdJwt).where(IssuedSdJwt.person_id == person_id).order_by(IssuedSdJwt.id.desc())
    )
    return [_view(r) for r in rows]


def _revoke_row(db: Session, row: IssuedSdJwt, reason: str, by: str, now: dt.datetime) -> bool:
    if row.revoked_at is not None:
        return False
    row.revoked_at = now
    row.revoked_reason = reason
    db.flush()
    audit.record(
        db, by, audit.AuditAction.CREDENTIAL_SDJWT_REVOKED, f"sdjwt:{row.id}", kind=row.kind, why=reason
    )
    return True


def revoke(
    db: Session, credential_id: int, *, reason: str = "staff", by: str = "cli", now: dt.datetime
) -> CredentialView:
    """Revoke one credential (its status list entry becomes 1). Revoking twice changes nothing."""
    if reason not in REVOCATION_REASONS:
        raise InvalidInput(
            f"The reason is one of {sorted(REVOCATION_REASONS)}.", ja="失効の理由が正しくありません。"
        )
    row = db.get(IssuedSdJwt, credential_id, with_for_update=True)
    if row is None:
        raise NotFound("No such credential.", ja="該当する資格情報はありません。")
    _revoke_row(db, row, reason, by, now)
    return _view(row)


def revoke_for_source(
    db: Session, kind: str, source_id: int, *, reason: str, by: str, now: dt.datetime
) -> int:
    """Revoke every live credential issued from one licence or qualification; the number revoked."""
    rows = db.scalars(
        select(IssuedSdJwt)
        .where(IssuedSdJwt.kind == kind, IssuedSdJwt.source_id == source_id, IssuedSdJwt.revoked_at.is_(None))
        .with_for_update()
    ).all()
    return sum(_revoke_row(db, row, reason, by, now) for row in rows)


def revoke_for_person(db: Session, person_id: int, *, reason: str, by: str, now: dt.datetime) -> int:
    """Revoke every live credential of a person (on a death); the number revoked."""
    rows = db.scalars(
        select(IssuedSdJwt)
        .where(IssuedSdJwt.person_id == person_id, IssuedSdJwt.revoked_at.is_(None))
        .with_for_update()
    ).all()
    return sum(_revoke_row(db, row, reason, by, now) for row in rows)


def set_licence_state(db: Session, person_id: int, state: str, *, by: str, now: dt.datetime) -> int:
    """Record a licence's suspension (停止) or revocation (取消): the credentials issued from it are revoked
    (status 1; a credential is re-issued once the licence is valid again). The number revoked."""
    if state not in ("valid", "suspended", "revoked"):
        raise InvalidInput("The state is valid, suspended or revoked.", ja="状態が正しくありません。")
    licence = _licence(db, person_id)
    if licence is None:
        raise NotFound("This person holds no driver's licence.", ja="運転免許の記録がありません。")
    licence.state = state
    licence.updated_at = now
    db.flush()
    if state == "valid":
        return 0
    return revoke_for_source(db, "driving_licence", licence.id, reason=f"licence_{state}", by=by, now=now)

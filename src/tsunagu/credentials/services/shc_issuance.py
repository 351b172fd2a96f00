"""Issuing SMART Health Cards (新型コロナワクチン接種証明書) from the registry's facts and the health domain's doses.

Two variants: domestic (国内用: the name as registered) and overseas (海外用: the name in Hepburn capital letters,
the passport number and nationality, entered by the citizen and checked here). The card's ``rid`` is derived from
the person's id under the issuer's ``rid`` secret and key id, so revoking it revokes every card of the person under
that key issued before the revocation. The caller owns the transaction; every issuance is audited."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from tsunagu.audit import api as audit
from tsunagu.credentials.context import CredentialsContext
from tsunagu.credentials.core import fhir, qr, shc
from tsunagu.credentials.models import IssuedCard
from tsunagu.credentials.services import revocation
from tsunagu.health import api as health
from tsunagu.kernel.errors import InvalidInput, NotFound
from tsunagu.registry import api as registry

Variant = Literal["domestic", "overseas"]
VARIANTS: dict[str, tuple[str, str]] = {
    "domestic": ("国内用", "For use in Japan"),
    "overseas": ("海外用", "For travel abroad"),
}
JAPANESE_PASSPORT = re.compile(r"[A-Z]{2}[0-9]{7}")
ROMAJI_NAME = re.compile(r"[A-Z]+(?:[ '-][A-Z]+)*")
ROMAJI_MAX = 40


class PassportInvalid(InvalidInput):
    code = "invalid-overseas-details"
    title = "Invalid overseas certificate details"


class CardTooLarge(InvalidInput):
    """The signed card does not fit one QR code (too many doses): nothing is issued."""

    code = "card-too-large"
    title = "The certificate does not fit one QR code"


@dataclass(frozen=True)
class OverseasDetails:
    """What the citizen enters for the overseas variant (海外用)."""

    passport_number: str
    nationality: str  # ISO 3166-1 alpha-3, e.g. JPN
    family_romaji: str
    given_romaji: str

    def cleaned(self) -> OverseasDetails:
        return OverseasDetails(
            self.passport_number.strip().upper(),
            self.nationality.strip().upper(),
            " ".join(self.family_romaji.split()).upper(),
            " ".join(self.given_romaji.split()).upper(),
        )


@dataclass(frozen=True)
class IssuedCardView:
    public_id: str
    person_id: int
    variant: str
    rid: str
    kid: str
    nbf: int
    issued_at: dt.datetime
    dose_count: int
    passport_hint: str
    revoked: bool
    jws: str

    @property
    def variant_names(self) -> tuple[str, str]:
        return VARIANTS[self.variant]


def check_overseas(details: OverseasDetails) -> OverseasDetails:
    """Passport number (a Japanese passport: two letters and seven digits; other countries: 5 to 20 capital
    letters and digits), nationality (ISO 3166-1 alpha-3) and the name in Hepburn capital letters."""
    d = details.cleaned()
    if not re.fullmatch(r"[A-Z]{3}", d.nationality):
        raise PassportInvalid(
            "Enter the nationality as an ISO 3166-1 alpha-3 code (e.g. JPN).",
            ja="国籍は ISO 3166-1 の英字3文字（例: JPN）で入力してください。",
            field="nationality",
        )
    pattern = JAPANESE_PASSPORT if d.nationality == "JPN" else re.compile(r"[A-Z0-9]{5,20}")
    if not pattern.fullmatch(d.passport_number):
        raise PassportInvalid(
            "A Japanese passport number is two capital letters and seven digits (e.g. TR1234567).",
            ja="旅券番号は英字2文字と数字7桁です（例: TR1234567）。",
            field="passport_number",
        )
    for name, value in (("family_romaji", d.family_romaji), ("given_romaji", d.given_romaji)):
        if not value or len(value) > ROMAJI_MAX or not ROMAJI_NAME.fullmatch(value):
            raise PassportInvalid(
                "Enter the name as in the passport, in capital letters A-Z (Hepburn).",
                ja="氏名は旅券と同じヘボン式のローマ字（大文字 A〜Z）で入力してください。",
                field=name,
            )
    return d


def _vaccinee(
    db: Session, person_id: int, overseas: OverseasDetails | None
) -> tuple[fhir.Vaccinee, list[int]]:
    facts = registry.basic_facts(db, person_id)
    doses = health.doses_of(db, person_id)
    if not doses:
        raise InvalidInput(
            "There is no vaccination record to certify.", ja="証明できる接種記録がありません。"
        )
    fhir_doses = tuple(
        fhir.Dose(cvx=d.cvx, on=d.occurrence, lot=d.lot, manufacturer=d.manufacturer, performer=d.performer)
        for d in doses
    )
    if overseas is None:
        family, given = facts.family_name, (facts.given_name,)
        passport = None
    else:
        family, given = overseas.family_romaji, (overseas.given_romaji,)
        passport = fhir.Passport(overseas.passport_number, overseas.nationality)
    person = fhir.Vaccinee(family, given, facts.birth_date, fhir_doses, passport)
    return person, [d.dose_id for d in doses]


def sign_card(ctx: CredentialsContext, person: fhir.Vaccinee, person_id: int, nbf: int) -> tuple[str, str]:
    """(rid, JWS) of a card; CardTooLarge when it does not fit one QR code."""
    kid = ctx.kid
    rid = shc.derive_rid(ctx.rid_secret, kid, str(person_id))
    payload = shc.build_payload(iss=ctx.iss, nbf=nbf, bundle=fhir.immunization_bundle(person), rid=rid)
    jws = shc.sign(payload, ctx.shc_key, kid)
    try:
        qr.make(jws)
    except shc.QrTooLarge as exc:
        raise CardTooLarge(exc.en, ja=exc.ja) from exc
    return rid, jws


def issue_card(
    db: Session,
    ctx: CredentialsContext,
    person_id: int,
    *,
    actor: str,
    overseas: OverseasDetails | None = None,
) -> IssuedCardView:
    """Issue a card to ``person_id`` and log it (the sealed JWS, never the passport number in clear)."""
    details = check_overseas(overseas) if overseas is not None else None
    person, dose_ids = _vaccinee(db, person_id, details)
    now = ctx.clock.now()
    nbf = int(now.timestamp())
    rid, jws = sign_card(ctx, person, person_id, nbf)
    row = IssuedCard(
        public_id=secrets.token_urlsafe(16),
        person_id=person_id,
        kid=ctx.kid,
        rid=rid,
        variant="overseas" if details else "domestic",
        nbf=nbf,
        issued_at=now,
        dose_ids=dose_ids,
        jws_sealed=ctx.card_box.seal(jws.encode("ascii")),
        passport_hint=details.passport_number[-2:] if details else "",
    )
    db.add(row)
    db.flush()
    audit.record(
        db,
        actor,
        audit.AuditAction.CREDENTIAL_SHC_ISSUED,
        f"person:{person_id}",
        variant=row.variant,
        doses=len(dose_ids),
        card=row.id,
    )
    return _view(ctx, row, revoked=False)


def _view(ctx: CredentialsContext, row: IssuedCard, *, revoked: bool) -> IssuedCardView:
    return IssuedCardView(
        public_id=row.public_id,
        person_id=row.person_id,
        variant=row.variant,
        rid=row.rid,
        kid=row.kid,
        nbf=row.nbf,
        issued_at=row.issued_at,
        dose_count=len(row.dose_ids),
        passport_hint=row.passport_hint,
        revoked=revoked,
        jws=ctx.card_box.open(row.jws_sealed).decode("ascii"),
    )


def cards_of(db: Session, ctx: CredentialsContext, person_id: int) -> list[IssuedCardView]:
    """The person's cards, newest first, each marked revoked when a revocation of its rid came after it."""
    rows = db.scalars(
        select(IssuedCard).where(IssuedCard.person_id == person_id).order_by(IssuedCard.id.desc())
    ).all()
    views = []
    for row in rows:
        since = revocation.revoked_since(db, row.kid, row.rid)
        views.append(_view(ctx, row, revoked=since is not None and row.nbf < since))
    return views


def card_of(db: Session, ctx: CredentialsContext, person_id: int, public_id: str) -> IssuedCardView:
    """One of the person's cards by its public id; NotFound for anyone else's (no hint that it exists)."""
    row = db.scalar(
        select(IssuedCard).where(IssuedCard.public_id == public_id, IssuedCard.person_id == person_id)
    )
    if row is None:
        raise NotFound("No such certificate.", ja="該当する証明書はありません。")
    since = revocation.revoked_since(db, row.kid, row.rid)
    return _view(ctx, row, revoked=since is not None and row.nbf < since)

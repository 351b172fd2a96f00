"""Proxies (代理人): legal proxies (a parent of a minor in the household; a guardian registered by staff) and
voluntary ones (invited by the principal with a one-time code); acting for a principal; revocation by the
principal alone. Services never commit; every change is audited with the proxy in the actor."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tsunagu.audit import api as audit
from tsunagu.identity.citizen import services as citizen
from tsunagu.identity.proxies.models import ProxyGrant
from tsunagu.kernel.access import CitizenPrincipal
from tsunagu.kernel.clock import Clock
from tsunagu.kernel.crypto import token_hash
from tsunagu.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound
from tsunagu.registry import api as registry_api

INVITE_HOURS = 72
ADULT_AGE = 18  # 成年 (民法 4条, since 2022-04-01)
KINDS_JA = {
    "legal_parent": "法定代理人（親権者）",
    "legal_guardian": "法定代理人（後見人）",
    "voluntary": "任意代理人",
}
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud or typed by elderly people


@dataclass(frozen=True)
class GrantView:
    id: int
    kind: str
    state: str
    other_person_id: int | None
    other_name: str | None
    created_at: dt.datetime
    activated_at: dt.datetime | None
    invite_expires_at: dt.datetime | None


def ensure_self(me: CitizenPrincipal) -> None:
    """Refuse while the resident acts for someone else: proxies are managed by each person for themselves."""
    if me.acting_for is not None:
        raise Forbidden(
            "A proxy cannot manage proxies for the person they act for.",
            ja="代理人として操作中は、代理人の登録や取消はできません。本人の操作に戻ってください。",
        )


def _name(db: Session, person_id: int | None) -> str | None:
    return registry_api.basic_facts(db, person_id).name if person_id is not None else None


def invite_voluntary(db: Session, clock: Clock, me: CitizenPrincipal) -> tuple[int, str]:
    """The principal creates a one-time code (valid 72 hours) to give to the person who will act for them."""
    ensure_self(me)
    code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))
    now = clock.now()
    grant = ProxyGrant(
        principal_person_id=me.person_id,
        proxy_person_id=None,
        kind="voluntary",
        state="pending",
        invite_code_hash=token_hash(code),
        invite_expires_at=now + dt.timedelta(hours=INVITE_HOURS),
        created_at=now,
        created_by=f"person:{me.person_id}",
    )
    db.add(grant)
    db.flush()
    audit.record_citizen(
        db,
        me,
        audit.AuditAction.PROXY_GRANTED,
        f"person:{me.person_id}",
        kind="voluntary",
        state="pending",
        grant=grant.id,
    )
    return grant.id, f"{code[:5]}-{code[5:]}"


def accept_invite(db: Session, clock: Clock, me: CitizenPrincipal, code: str) -> ProxyGrant:
    """The proxy enters the principal's code after their own card login."""
    ensure_self(me)
    cleaned = code.replace("-", "").replace(" ", "").upper()
    grant = db.scalar(select(ProxyGrant).where(ProxyGrant.invite_code_hash == token_hash(cleaned)))
    if grant is None or grant.state != "pending" or (grant.invite_expires_at or clock.now()) <= clock.now():
        raise InvalidInput(
            "The code is not valid (wrong, used or expired). Ask the person for a new code.",
            ja="代理人コードが正しくないか、使用済みか、期限切れです。ご本人に新しいコードを発行してもらってください。",
            field="code",
        )
    if grant.principal_person_id == me.person_id:
        raise InvalidInput(
            "You cannot be your own proxy.", ja="ご本人を代理人にすることはできません。", field="code"
        )
    grant.proxy_person_id = me.person_id
    grant.state = "active"
    grant.activated_at = clock.now()
    grant.invite_code_hash = None
    audit.record_citizen(
        db,
        me,
        audit.AuditAction.PROXY_GRANTED,
        f"person:{grant.principal_person_id}",
        kind="voluntary",
        state="active",
        grant=grant.id,
    )
    return grant


def register_as_parent(db: Session, clock: Clock, me: CitizenPrincipal, child_id: int) -> ProxyGrant:
    """A parent (世帯主 or spouse) registers as 法定代理人 of a minor child of the same household."""
    ensure_self(me)
    parent = registry_api.basic_facts(db, me.person_id)
    child = registry_api.basic_facts(db, child_id)
    if (
        child.household_id != parent.household_id
        or child.relationship != "child"
        or parent.relationship not in {"head", "spouse"}
        or child.status != "resident"
    ):
        raise Forbidden(
            "Only a parent in the same household can register for a child of the household.",
            ja="同じ世帯の子について、世帯主またはその配偶者だけが登録できます。",
        )
    if child.age_on(clock.today()) >= ADULT_AGE:
        raise InvalidInput(
            "The person is an adult: ask them to invite you as a voluntary proxy.",
            ja="成年の方です。ご本人から任意代理人として招待してもらってください。",
        )
    existing = db.scalar(
        select(ProxyGrant).where(
            ProxyGrant.principal_person_id == child_id,
            ProxyGrant.proxy_person_id == me.person_id,
            ProxyGrant.state == "active",
        )
    )
    if existing is not None:
        raise Conflict("Already registered.", ja="すでに登録されています。")
    now = clock.now()
    grant = ProxyGrant(
        principal_person_id=child_id,
        proxy_person_id=me.person_id,
        kind="legal_parent",
        state="active",
        created_at=now,
        created_by=f"person:{me.person_id}",
        activated_at=now,
    )
    db.add(grant)
    db.flush()
    audit.record_citizen(
        db, me, audit.AuditAction.PROXY_GRANTED, f"person:{child_id}", kind="legal_parent", grant=grant.id
    )
    return grant


def grant_guardian(db: Session, clock: Clock, staff: str, principal_id: int, guardian_id: int) -> ProxyGrant:
    """Staff register a 後見人 (on the court's 登記事項証明書) as the legal proxy of an adult ward."""
    for pid in (principal_id, guardian_id):
        registry_api.basic_facts(db, pid)  # both must exist
    if principal_id == guardian_id:
        raise InvalidInput(
            "A person cannot be their own guardian.", ja="本人を後見人にすることはできません。"
        )
    now = clock.now()
    grant = ProxyGrant(
        principal_person_id=principal_id,
        proxy_person_id=guardian_id,
        kind="legal_guardian",
        state="active",
        created_at=now,
        created_by=staff,
        activated_at=now,
    )
    db.add(grant)
    db.flush()
    audit.record(
        db,
        staff,
        audit.AuditAction.PROXY_GRANTED,
        f"person:{principal_id}",
        kind="legal_guardian",
        grant=grant.id,
    )
    return grant


def revoke(db: Session, clock: Clock, me: CitizenPrincipal, grant_id: int) -> None:
    """The principal alone revokes (no consent of the proxy). Sessions acting under it stop acting at once."""
    ensure_self(me)
    grant = db.get(ProxyGrant, grant_id)
    if grant is None or grant.principal_person_id != me.person_id:
        raise NotFound("No such proxy registration of yours.", ja="該当する代理人の登録はありません。")
    if grant.state == "revoked":
        return
    grant.state = "revoked"
    grant.revoked_at = clock.now()
    grant.revoked_by = f"person:{me.person_id}"
    grant.invite_code_hash = None
    audit.record_citizen(
        db, me, audit.AuditAction.PROXY_REVOKED, f"person:{me.person_id}", grant=grant.id, kind=grant.kind
    )


def active_grant(db: Session, proxy_id: int, principal_id: int) -> ProxyGrant | None:
    return db.scalar(
        select(ProxyGrant)
        .where(
            ProxyGrant.proxy_person_id == proxy_id,
            ProxyGrant.principal_person_id == principal_id,
            ProxyGrant.state == "active",
        )
        .limit(1)
    )


def start_acting(db: Session, me: CitizenPrincipal, grant_id: int) -> None:
    grant = db.get(ProxyGrant, grant_id)
    if grant is None or grant.state != "active" or grant.proxy_person_id != me.person_id:
        raise Forbidden("You are not a proxy for this person.", ja="この方の代理人として登録されていません。")
    name = _name(db, grant.principal_person_id)
    citizen.set_acting_for(db, me.session_id_hash, grant.principal_person_id, name)
    audit.record(
        db,
        f"person:{me.person_id}",
        audit.AuditAction.PROXY_ACTING_STARTED,
        f"person:{grant.principal_person_id}",
        grant=grant.id,
        kind=grant.kind,
        on_behalf_of=f"person:{grant.principal_person_id}",
    )


def stop_acting(db: Session, me: CitizenPrincipal) -> None:
    if me.acting_for is None:
        return
    citizen.set_acting_for(db, me.session_id_hash, None, None)
    audit.record_citizen(db, me, audit.AuditAction.PROXY_ACTING_ENDED, f"person:{me.acting_for}")


def overview(db: Session, person_id: int) -> tuple[list[GrantView], list[GrantView]]:
    """(who may act for me, whom I may act for): active and pending, newest first."""
    rows = db.scalars(
        select(ProxyGrant)
        .where(
            or_(ProxyGrant.principal_person_id == person_id, ProxyGrant.proxy_person_id == person_id),
            ProxyGrant.state != "revoked",
        )
        .order_by(ProxyGrant.created_at.desc(), ProxyGrant.id.desc())
    )
    mine, theirs = [], []
    for g in rows:
        if g.principal_person_id == person_id:
            mine.append(
                GrantView(
                    g.id,
                    g.kind,
                    g.state,
                    g.proxy_person_id,
                    _name(db, g.proxy_person_id),
                    g.created_at,
                    g.activated_at,
                    g.invite_expires_at,
                )
            )
        elif g.state == "active":
            theirs.append(
                GrantView(
                    g.id,
                    g.kind,
                    g.state,
                    g.principal_person_id,
                    _name(db, g.principal_person_id),
                    g.created_at,
                    g.activated_at,
                    None,
                )
            )
    return mine, theirs


def minor_children(db: Session, clock: Clock, person_id: int) -> list[registry_api.BasicFacts]:
    """Minors of the person's household for whom the person could register as parent."""
    me = registry_api.basic_facts(db, person_id)
    if me.relationship not in {"head", "spouse"}:
        return []
    today = clock.today()
    return [
        p
        for p in registry_api.household_facts(db, me.household_id)
        if p.relationship == "child" and p.status == "resident" and p.age_on(today) < ADULT_AGE
    ]

"""Relying parties, consents, authorization codes and access tokens of the OpenID Connect provider.
Services never commit: the edge (a request handler or a CLI command) owns the unit of work."""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from tsunagu.audit import api as audit
from tsunagu.identity.core import oidc_claims as rules
from tsunagu.identity.oidc.models import OidcAccessToken, OidcAuthorizationCode, OidcClient, OidcConsent
from tsunagu.kernel.access import CitizenPrincipal
from tsunagu.kernel.clock import Clock
from tsunagu.kernel.crypto import token_hash
from tsunagu.kernel.errors import Conflict, InvalidInput, NotFound
from tsunagu.registry import api as registry

SECTORS = ("public", "private")
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
CODE_SECONDS = 120  # authorization codes: single use, short-lived (RFC 6749 §4.1.2 recommends at most 10 min)
TOKEN_SECONDS = 600  # access tokens for the userinfo endpoint; no refresh tokens are issued
PURGE_AFTER = dt.timedelta(days=1)
PURGE_EVERY = 1000
OPERATOR = "cli"


@dataclass(frozen=True)
class Registered:
    """A new relying party; ``client_secret`` is shown once and only its hash is kept."""

    client_id: str
    client_secret: str | None
    sector_identifier: str


@dataclass(frozen=True)
class ClientView:
    client_id: str
    name: str
    name_en: str
    sector: str
    sector_identifier: str
    redirect_uris: list[str]
    scopes: list[str]
    public_client: bool
    revoked: bool


@dataclass(frozen=True)
class ConnectionView:
    """One consent, as the resident sees it on /my/connections."""

    consent_id: int
    client_id: str
    name: str
    name_en: str
    sector: str
    scopes: list[str]
    given_at: dt.datetime


def _view(row: OidcClient) -> ClientView:
    return ClientView(
        row.client_id,
        row.name,
        row.name_en,
        row.sector,
        row.sector_identifier,
        list(row.redirect_uris),
        rules.parse_scopes(row.scopes),
        row.secret_hash is None,
        row.revoked_at is not None,
    )


def _check_redirect_uri(uri: str) -> str:
    parts = urlsplit(uri)
    host = parts.hostname or ""
    if parts.scheme not in {"https", "http"} or not host or parts.fragment:
        raise InvalidInput(
            f"Redirect URI {uri!r} must be an absolute https URI without a fragment.",
            ja="リダイレクトURIは、フラグメントのない https の絶対URIにしてください。",
        )
    if parts.scheme == "http" and host not in LOOPBACK:
        raise InvalidInput(
            f"Redirect URI {uri!r} uses http: only loopback addresses (127.0.0.1, localhost) may.",
            ja="http のリダイレクトURIは、ループバックアドレスにのみ使えます。",
        )
    return uri


def _sector_identifier(explicit: str | None, redirect_uris: list[str]) -> str:
    if explicit:
        host = explicit.strip().lower()
        if not host or "/" in host or " " in host:
            raise InvalidInput("The sector identifier is a host name, such as bank.example.jp.")
        return host
    hosts = {urlsplit(u).hostname or "" for u in redirect_uris}
    if len(hosts) != 1:
        raise InvalidInput(
            "Redirect URIs on several hosts need --sector-identifier (OIDC Core §8.1).",
            ja="複数のホストにリダイレクトURIがある場合は --sector-identifier を指定してください。",
        )
    return hosts.pop()


def register_client(
    db: Session,
    clock: Clock,
    *,
    name: str,
    name_en: str,
    sector: str,
    redirect_uris: list[str],
    scopes: str,
    sector_identifier: str | None = None,
    public_client: bool = False,
    client_id: str | None = None,
    client_secret: str | None = None,
    actor: str = OPERATOR,
) -> Registered:
    """Register a relying party. ``client_id``/``client_secret`` are generated unless given (the demo fixes
    them); a public client has no secret and must use PKCE (it always must, here)."""
    if not name.strip() or not name_en.strip():
        raise InvalidInput("A relying party needs a Japanese and an English name.")
    if sector not in SECTORS:
        raise InvalidInput(f"Sector must be one of {', '.join(SECTORS)}.")
    if not redirect_uris:
        raise InvalidInput("Give at least one --redirect-uri.")
    uris = [_check_redirect_uri(u) for u in dict.fromkeys(redirect_uris)]
    wanted = rules.parse_scopes(scopes)
    unknown = [s for s in wanted if s not in rules.SCOPES]
    if unknown or "openid" not in wanted:
        raise InvalidInput(
            f"Scopes must include openid and be among: {' '.join(rules.SCOPES)} (unknown: {' '.join(unknown)})."
        )
    cid = client_id or "rp-" + secrets.token_urlsafe(12)
    if db.get(OidcClient, cid) is not None:
        raise Conflict(f"A relying party {cid} exists already.")
    secret = None if public_client else (client_secret or secrets.token_urlsafe(32))
    sector_id = _sector_identifier(sector_identifier, uris)
    db.add(
        OidcClient(
            client_id=cid,
            name=name.strip(),
            name_en=name_en.strip(),
            sector=sector,
            sector_identifier=sector_id,
            redirect_uris=uris,
            scopes=rules.join_scopes(wanted),
            secret_hash=token_hash(secret) if secret else None,
            created_at=clock.now(),
            revoked_at=None,
        )
    )
    audit.record(db, actor, audit.AuditAction.OIDC_CLIENT_REGISTERED, f"client:{cid}", sector=sector)
    return Registered(cid, secret, sector_id)


def list_clients(db: Session) -> list[ClientView]:
    return [_view(r) for r in db.scalars(select(OidcClient).order_by(OidcClient.created_at))]


def get_client(db: Session, client_id: str) -> ClientView | None:
    row = db.get(OidcClient, client_id)
    return _view(row) if row is not None else None


def revoke_client(db: Session, clock: Clock, client_id: str, actor: str = OPERATOR) -> None:
    """Stop a relying party: no new logins, and its access tokens stop working."""
    row = db.get(OidcClient, client_id)
    if row is None:
        raise NotFound(f"No relying party {client_id}.")
    if row.revoked_at is None:
        row.revoked_at = clock.now()
        db.execute(update(OidcAccessToken).where(OidcAccessToken.client_id == client_id).values(revoked=True))
        # no action of its own yet: recorded as a change of the registration
        audit.record(db, actor, audit.AuditAction.OIDC_CLIENT_REVOKED, f"client:{client_id}")


def check_secret(db: Session, client_id: str, secret: str) -> bool:
    row = db.get(OidcClient, client_id)
    if row is None or row.secret_hash is None:
        return False
    return hmac.compare_digest(row.secret_hash, token_hash(secret))


# Consents ------------------------------------------------------------------------------------------------


def _live_consents(db: Session, person_id: int, client_id: str | None = None) -> list[OidcConsent]:
    stmt = select(OidcConsent).where(OidcConsent.person_id == person_id, OidcConsent.withdrawn_at.is_(None))
    if client_id is not None:
        stmt = stmt.where(OidcConsent.client_id == client_id)
    return list(db.scalars(stmt.order_by(OidcConsent.given_at.desc(), OidcConsent.id.desc())))


def has_consent(db: Session, person_id: int, client_id: str, scopes: list[str]) -> bool:
    return any(
        rules.covers(rules.parse_scopes(c.scopes), scopes) for c in _live_consents(db, person_id, client_id)
    )


def give_consent(
    db: Session, clock: Clock, principal: CitizenPrincipal, client_id: str, scopes: list[str]
) -> None:
    """Remember the consent (replacing narrower ones for the same relying party)."""
    for old in _live_consents(db, principal.person_id, client_id):
        old.withdrawn_at = clock.now()
    db.add(
        OidcConsent(
            person_id=principal.person_id,
            client_id=client_id,
            scopes=rules.join_scopes(scopes),
            given_at=clock.now(),
            withdrawn_at=None,
        )
    )
    audit.record_citizen(
        db, principal, audit.AuditAction.OIDC_CONSENT_GIVEN, f"client:{client_id}", scopes=" ".join(scopes)
    )


def connections(db: Session, person_id: int) -> list[ConnectionView]:
    out: list[ConnectionView] = []
    for c in _live_consents(db, person_id):
        client = db.get(OidcClient, c.client_id)
        if client is None:
            continue
        out.append(
            ConnectionView(
                c.id,
                c.client_id,
                client.name,
                client.name_en,
                client.sector,
                rules.parse_scopes(c.scopes),
                c.given_at,
            )
        )
    return out


def withdraw_consent(db: Session, clock: Clock, principal: CitizenPrincipal, consent_id: int) -> None:
    """Withdraw one of the resident's own consents; that relying party's access tokens stop working."""
    row = db.get(OidcConsent, consent_id)
    if row is None or row.person_id != principal.person_id or row.withdrawn_at is not None:
        raise NotFound("No such connection.", ja="該当する連携はありません。")
    row.withdrawn_at = clock.now()
    db.execute(
        update(OidcAccessToken)
        .where(OidcAccessToken.person_id == row.person_id, OidcAccessToken.client_id == row.client_id)
        .values(revoked=True)
    )
    audit.record_citizen(db, principal, audit.AuditAction.OIDC_CONSENT_WITHDRAWN, f"client:{row.client_id}")


# Codes and tokens ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewCode:
    client_id: str
    person_id: int
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str
    code_challenge_method: str
    acr: str
    auth_time: int


def purge_expired(db: Session, now: dt.datetime) -> None:
    """Delete codes and access tokens that expired more than a day ago (after a replayed code could still
    revoke the tokens issued from it, and after every such token has expired anyway)."""
    cutoff = now - PURGE_AFTER
    db.execute(delete(OidcAccessToken).where(OidcAccessToken.expires_at < cutoff))
    db.execute(delete(OidcAuthorizationCode).where(OidcAuthorizationCode.expires_at < cutoff))


def save_code(db: Session, clock: Clock, code: str, new: NewCode) -> None:
    now = clock.now()
    if secrets.randbelow(PURGE_EVERY) == 0:  # about one authorization in this many tidies up
        purge_expired(db, now)
    db.add(
        OidcAuthorizationCode(
            code_hash=token_hash(code),
            client_id=new.client_id,
            person_id=new.person_id,
            redirect_uri=new.redirect_uri,
            scope=new.scope,
            nonce=new.nonce,
            code_challenge=new.code_challenge,
            code_challenge_method=new.code_challenge_method,
            acr=new.acr,
            auth_time=dt.datetime.fromtimestamp(new.auth_time, dt.UTC),
            expires_at=now + dt.timedelta(seconds=CODE_SECONDS),
            used_at=None,
        )
    )


def find_code(db: Session, code: str) -> OidcAuthorizationCode | None:
    return db.get(OidcAuthorizationCode, token_hash(code))


def nonce_used(db: Session, client_id: str, nonce: str) -> bool:
    found = db.scalars(
        select(OidcAuthorizationCode.code_hash)
        .where(OidcAuthorizationCode.client_id == client_id, OidcAuthorizationCode.nonce == nonce)
        .limit(1)
    ).first()
    return found is not None


def revoke_tokens_of_code(db: Session, code_hash: str) -> int:
    """RFC 6749 §4.1.2: a code used twice revokes the tokens issued from it."""
    result = db.execute(
        update(OidcAccessToken)
        .where(OidcAccessToken.code_hash == code_hash, OidcAccessToken.revoked.is_(False))
        .values(revoked=True)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def save_access_token(
    db: Session, clock: Clock, token: str, code: OidcAuthorizationCode, expires_in: int
) -> None:
    now = clock.now()
    db.add(
        OidcAccessToken(
            token_hash=token_hash(token),
            client_id=code.client_id,
            person_id=code.person_id,
            scope=code.scope,
            code_hash=code.code_hash,
            issued_at=now,
            expires_at=now + dt.timedelta(seconds=expires_in),
            revoked=False,
        )
    )


def find_access_token(db: Session, token: str) -> OidcAccessToken | None:
    return db.get(OidcAccessToken, token_hash(token))


# The resident's claims -----------------------------------------------------------------------------------


def person_of(db: Session, person_id: int) -> rules.Person:
    """The resident's 基本4情報 as the provider may release them (from ``registry.api.basic_facts``)."""
    facts = registry.basic_facts(db, person_id)
    town = registry.municipalities().get(facts.lg_code)
    street = f"{facts.town}{facts.block}" + (f" {facts.building}" if facts.building else "")
    return rules.Person(
        family_name=facts.family_name,
        given_name=facts.given_name,
        family_name_kana=facts.family_name_kana,
        given_name_kana=facts.given_name_kana,
        birth_date=facts.birth_date,
        sex=facts.sex,
        prefecture=town.prefecture if town else "",
        municipality=town.name if town else facts.lg_code,
        street=street,
        formatted_address=facts.address,
        address_suppressed=facts.address_suppressed,
    )

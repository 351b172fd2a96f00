"""Where a login may end up: the origin of a registered redirect URI when the page's ``next`` is an OpenID
authorization request. Pages that lead there widen their CSP ``form-action`` to that origin only (see
:func:`tsunagu.web.security.allow_form_targets`); an unregistered redirect URI gives nothing."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from sqlalchemy.orm import Session

from tsunagu.identity.oidc.models import OidcClient

AUTHORIZE_PATH = "/oidc/authorize"


def origin_of(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}"


def registered_origin(db: Session, client_id: str, redirect_uri: str) -> str | None:
    client = db.get(OidcClient, client_id) if client_id else None
    if client is None or client.revoked_at is not None or redirect_uri not in client.redirect_uris:
        return None
    return origin_of(redirect_uri)


def form_targets_for_next(db: Session, next_path: str) -> list[str]:
    """The relying party's origin when ``next_path`` is an authorization request with a registered redirect."""
    parts = urlsplit(next_path)
    if parts.path != AUTHORIZE_PATH:
        return []
    query = parse_qs(parts.query)
    client_id = (query.get("client_id") or [""])[0]
    redirect_uri = (query.get("redirect_uri") or [""])[0]
    origin = registered_origin(db, client_id, redirect_uri)
    return [origin] if origin else []


def client_names(db: Session, client_ids: set[str]) -> dict[str, tuple[str, str]]:
    """Japanese and English names of relying parties, for lists a resident reads (their login history)."""
    if not client_ids:
        return {}
    rows = db.query(OidcClient.client_id, OidcClient.name, OidcClient.name_en).filter(
        OidcClient.client_id.in_(client_ids)
    )
    return {cid: (name, name_en) for cid, name, name_en in rows}

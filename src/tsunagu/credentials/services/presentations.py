"""The verifier (relying party) side: presentation requests and their answers (OpenID4VP ``direct_post`` style).

A request has a random URL-safe id and a random nonce, names the credential type (``vct``) and the claims asked
(claim paths), and lives 5 minutes. The wallet answers once at ``response_uri`` with a ``vp_token`` (an SD-JWT with
a key-binding JWT over the nonce and ``aud``). The answer is verified with the core verifier against this
platform's issuer key, the nonce, ``aud``, the asked claims, the status list (read from the database) and the
validity period; the outcome is stored with exactly the claims that were disclosed (never the token). A second
answer to the same request, and so a replay of the nonce, is refused."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tsunagu.audit import api as audit
from tsunagu.credentials.core import sdjwt_verify
from tsunagu.credentials.core.sdjwt import ALWAYS_VISIBLE
from tsunagu.credentials.core.sdjwt_claims import AGE_VCT, DRIVING_LICENCE_VCT, QUALIFICATION_VCT
from tsunagu.credentials.core.sdjwt_reasons import MESSAGES, Reason
from tsunagu.credentials.models_sdjwt import PresentationRequest
from tsunagu.credentials.services import status_lists
from tsunagu.credentials.services.sdjwt_keys import IssuerKey
from tsunagu.kernel.errors import Conflict, InvalidInput, NotFound

__all__ = [
    "REQUEST_LIFETIME",
    "RequestView",
    "answer",
    "create_request",
    "get_request",
    "reason_message",
]

REQUEST_LIFETIME = dt.timedelta(minutes=5)
VCTS = (AGE_VCT, DRIVING_LICENCE_VCT, QUALIFICATION_VCT)
MAX_PATHS = 12
MAX_PATH_LENGTH = 4
MAX_NAME = 64
REQUEST_EXPIRED = "request_expired"
WRONG_VCT = "wrong_vct"
EXTRA_REASONS: dict[str, tuple[str, str]] = {
    REQUEST_EXPIRED: (
        "提示の要求は有効期限（5分）が切れています。新しい要求を作ってください。",
        "The presentation request has expired (5 minutes). Create a new request.",
    ),
    WRONG_VCT: (
        "求めた種類の資格情報ではありません。",
        "The credential is not of the requested type.",
    ),
}
NOT_DISCLOSED = ALWAYS_VISIBLE | {"_sd_alg"}


@dataclass(frozen=True)
class RequestView:
    id: str
    nonce: str
    aud: str
    vct: str
    claims: list[list[str | int]]
    response_uri: str
    created_at: dt.datetime
    expires_at: dt.datetime
    state: str  # pending | valid | invalid
    reason: str | None
    disclosed: dict[str, Any] | None
    answered_at: dt.datetime | None

    def wallet_json(self) -> dict[str, Any]:
        """What a wallet needs to answer (and what the request endpoints return)."""
        return {
            "id": self.id,
            "nonce": self.nonce,
            "aud": self.aud,
            "client_id": self.aud,
            "vct": self.vct,
            "claims": self.claims,
            "response_uri": self.response_uri,
            "response_mode": "direct_post",
            "expires_at": self.expires_at.isoformat(),
            "state": self.state,
        }

    def result_json(self) -> dict[str, Any]:
        return {
            "status": self.state,
            "reason": self.reason,
            "message_ja": reason_message(self.reason, "ja") if self.reason else None,
            "message_en": reason_message(self.reason, "en") if self.reason else None,
            "disclosed": self.disclosed or {},
        }


def reason_message(reason: str, lang: str) -> str:
    """The Japanese or English message of a refusal reason (the core verifier's or the request's own)."""
    if reason in EXTRA_REASONS:
        ja, en = EXTRA_REASONS[reason]
    else:
        try:
            ja, en = MESSAGES[Reason(reason)]
        except ValueError:
            ja, en = "提示を確認できませんでした。", "The presentation could not be verified."
    return ja if lang == "ja" else en


def _response_uri(public_url: str, request_id: str) -> str:
    return f"{public_url}/api/v1/presentations/{request_id}"


def _view(row: PresentationRequest, public_url: str) -> RequestView:
    uri = _response_uri(public_url, row.id)
    return RequestView(
        row.id, row.nonce, uri, row.vct, [list(p) for p in row.claims], uri, row.created_at, row.expires_at,
        row.state, row.reason, row.disclosed, row.answered_at,
    )  # fmt: skip


def _paths(claims: object) -> list[list[str | int]]:
    bad = InvalidInput(
        f'Ask for 1 to {MAX_PATHS} claims, each a path such as ["age_over_20"].',
        ja='求める項目を1〜12個、["age_over_20"] のようなパスで指定してください。',
        field="claims",
    )
    if not isinstance(claims, list) or not 0 < len(claims) <= MAX_PATHS:
        raise bad
    paths: list[list[str | int]] = []
    for path in claims:
        if not isinstance(path, list) or not 0 < len(path) <= MAX_PATH_LENGTH:
            raise bad
        for step in path:
            ok_name = isinstance(step, str) and 0 < len(step) <= MAX_NAME
            ok_index = isinstance(step, int) and not isinstance(step, bool) and 0 <= step < 100
            if not (ok_name or ok_index):
                raise bad
        if not isinstance(path[0], str) or path[0] in NOT_DISCLOSED:
            raise bad
        if path not in paths:
            paths.append(list(path))
    return paths


def create_request(
    db: Session, public_url: str, *, claims: object, vct: str = AGE_VCT, now: dt.datetime
) -> RequestView:
    """A new request for ``claims`` (claim paths) of a credential of type ``vct``."""
    if vct not in VCTS:
        raise InvalidInput(
            "Unknown credential type (vct).", ja="資格情報の種類（vct）が正しくありません。", field="vct"
        )
    row = PresentationRequest(
        id=secrets.token_urlsafe(24),
        nonce=secrets.token_urlsafe(24),
        vct=vct,
        claims=_paths(claims),
        created_at=now,
        expires_at=now + REQUEST_LIFETIME,
        state="pending",
        detail="",
    )
    db.add(row)
    db.flush()
    return _view(row, public_url)


def get_request(db: Session, public_url: str, request_id: str) -> RequestView:
    row = db.get(PresentationRequest, request_id) if len(request_id) <= 43 else None
    if row is None:
        raise NotFound("No such presentation request.", ja="該当する提示の要求はありません。")
    return _view(row, public_url)


def _status_lookup(db: Session, key: IssuerKey) -> sdjwt_verify.StatusLookup:
    prefix = key.status_uri(0)[:-1]  # {iss}/status/

    def lookup(uri: str, idx: int) -> int:
        list_id = uri.removeprefix(prefix)
        if not uri.startswith(prefix) or not list_id.isdigit():
            raise LookupError("a status list this verifier does not hold")
        return status_lists.status_of(db, int(list_id), idx)

    return lookup


def _disclosed(claims: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in claims.items() if name not in NOT_DISCLOSED}


def answer(
    db: Session, key: IssuerKey, public_url: str, request_id: str, vp_token: str, *, now: dt.datetime
) -> RequestView:
    """Verify the wallet's answer and store the outcome. :class:`Conflict` when the request was answered
    already (a replay); an expired request is answered ``invalid`` with ``request_expired``."""
    row = db.scalar(
        select(PresentationRequest).where(PresentationRequest.id == request_id[:43]).with_for_update()
    )
    if row is None:
        raise NotFound("No such presentation request.", ja="該当する提示の要求はありません。")
    if row.state != "pending":
        raise Conflict(
            "This request has been answered already; a presentation is accepted once (replay refused).",
            ja="この要求にはすでに回答があります。提示は一度だけ受け付けます（再送は拒否されます）。",
        )
    view = _view(row, public_url)
    if now >= row.expires_at:
        state, reason, disclosed, detail = "invalid", REQUEST_EXPIRED, None, ""
    else:
        result = sdjwt_verify.verify(
            vp_token,
            trust=key.trust(),
            aud=view.aud,
            nonce=row.nonce,
            now=int(now.timestamp()),
            status=_status_lookup(db, key),
            required=[tuple(p) for p in row.claims],
        )
        if result.valid and result.claims.get("vct") != row.vct:
            state, reason, disclosed, detail = "invalid", WRONG_VCT, None, ""
        elif result.valid:
            state, reason, disclosed, detail = "valid", None, _disclosed(result.claims), ""
        else:
            state, reason, disclosed, detail = "invalid", str(result.reason), None, result.detail[:200]
    row.state, row.reason, row.disclosed, row.detail, row.answered_at = state, reason, disclosed, detail, now
    db.flush()
    audit.record(
        db,
        "verifier",
        audit.AuditAction.CREDENTIAL_PRESENTATION_VERIFIED,
        f"presentation:{row.id[:8]}",
        status=state,
        reason=reason or "",
        claims=len(disclosed or {}),
    )
    return _view(row, public_url)

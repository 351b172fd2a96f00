"""The verifier's requests and answers against a real database: one answer per request (a replayed nonce is
refused), an expired request, a presentation made for another request, a revoked credential."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy.orm import Session, sessionmaker
from tests.conftest import NOW
from tests.integration.conftest import move_in

from tsunagu.credentials.core import sdjwt
from tsunagu.credentials.core.sdjwt_claims import AGE_VCT, DRIVING_LICENCE_VCT
from tsunagu.credentials.models_sdjwt import PresentationRequest
from tsunagu.credentials.services import presentations
from tsunagu.credentials.services import sdjwt_issuance as issuance
from tsunagu.credentials.services.sdjwt_keys import IssuerKey, issuer_key
from tsunagu.kernel.errors import Conflict, InvalidInput
from tsunagu.registry.api import RegistryContext
from tsunagu.settings import Settings

PUBLIC = "https://city.example.jp"


class Ctx:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings


@pytest.fixture
def sctx(settings: Settings) -> Ctx:
    return Ctx(settings.model_copy(update={"public_url": PUBLIC}))


@pytest.fixture
def key(sctx: Ctx) -> IssuerKey:
    return issuer_key(sctx.settings)


@pytest.fixture
def holder() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def credential(
    session_factory: sessionmaker[Session],
    ctx: RegistryContext,
    sctx: Ctx,
    holder: ec.EllipticCurvePrivateKey,
) -> issuance.Issued:
    with session_factory.begin() as db:
        pid = move_in(db, ctx)
        return issuance.issue_for(db, sctx, pid, "age", sdjwt.holder_binding(holder), now=NOW)


@pytest.fixture
def new_request(session_factory: sessionmaker[Session]) -> Callable[..., presentations.RequestView]:
    def make(
        claims: tuple[list[str], ...] = (["age_over_20"],), vct: str = AGE_VCT, at: dt.datetime = NOW
    ) -> presentations.RequestView:
        with session_factory.begin() as db:
            return presentations.create_request(db, PUBLIC, claims=[list(c) for c in claims], vct=vct, now=at)

    return make


def _token(
    compact: str, req: presentations.RequestView, holder: ec.EllipticCurvePrivateKey, *paths: str
) -> str:
    return sdjwt.present(
        compact, disclose=list(paths or ("age_over_20",)), holder_key=holder, aud=req.aud, nonce=req.nonce,
        iat=int(NOW.timestamp()),
    )  # fmt: skip


def _answer(
    factory: sessionmaker[Session], key: IssuerKey, req_id: str, token: str, at: dt.datetime = NOW
) -> presentations.RequestView:
    with factory.begin() as db:
        return presentations.answer(db, key, PUBLIC, req_id, token, now=at)


def test_a_valid_answer_stores_only_the_disclosed_claim(
    session_factory: sessionmaker[Session], key: IssuerKey, holder: ec.EllipticCurvePrivateKey,
    credential: issuance.Issued, new_request: Callable[..., presentations.RequestView],
) -> None:  # fmt: skip
    req = new_request()
    assert req.response_uri == f"{PUBLIC}/api/v1/presentations/{req.id}"
    assert req.expires_at - NOW == dt.timedelta(minutes=5)
    done = _answer(session_factory, key, req.id, _token(credential.compact, req, holder))
    assert (done.state, done.reason, done.disclosed) == ("valid", None, {"age_over_20": True})
    with session_factory() as db:
        row = db.get(PresentationRequest, req.id)
        assert row is not None
        assert row.disclosed == {"age_over_20": True}


def test_a_second_answer_is_refused_and_the_first_result_stays(
    session_factory: sessionmaker[Session], key: IssuerKey, holder: ec.EllipticCurvePrivateKey,
    credential: issuance.Issued, new_request: Callable[..., presentations.RequestView],
) -> None:  # fmt: skip
    req = new_request()
    token = _token(credential.compact, req, holder)
    _answer(session_factory, key, req.id, token)
    with pytest.raises(Conflict):
        _answer(session_factory, key, req.id, token)
    with pytest.raises(Conflict):  # a different, badly made answer is refused too: one answer only
        _answer(session_factory, key, req.id, "x~")
    with session_factory() as db:
        assert presentations.get_request(db, PUBLIC, req.id).state == "valid"


def test_an_expired_request_is_answered_invalid(
    session_factory: sessionmaker[Session], key: IssuerKey, holder: ec.EllipticCurvePrivateKey,
    credential: issuance.Issued, new_request: Callable[..., presentations.RequestView],
) -> None:  # fmt: skip
    req = new_request()
    late = NOW + dt.timedelta(minutes=5)
    done = _answer(session_factory, key, req.id, _token(credential.compact, req, holder), at=late)
    assert (done.state, done.reason, done.disclosed) == ("invalid", "request_expired", None)


def test_a_presentation_for_another_request_has_the_wrong_nonce(
    session_factory: sessionmaker[Session], key: IssuerKey, holder: ec.EllipticCurvePrivateKey,
    credential: issuance.Issued, new_request: Callable[..., presentations.RequestView],
) -> None:  # fmt: skip
    first, second = new_request(), new_request()
    assert first.nonce != second.nonce
    assert first.id != second.id
    token = _token(credential.compact, first, holder)
    done = _answer(session_factory, key, second.id, token)
    assert (done.state, done.reason) in {("invalid", "wrong_nonce"), ("invalid", "wrong_audience")}


def test_the_wrong_type_and_a_revoked_credential_are_invalid(
    session_factory: sessionmaker[Session], key: IssuerKey, holder: ec.EllipticCurvePrivateKey,
    credential: issuance.Issued, new_request: Callable[..., presentations.RequestView],
) -> None:  # fmt: skip
    licence_req = new_request(claims=(["given_name"],), vct=DRIVING_LICENCE_VCT)
    done = _answer(
        session_factory, key, licence_req.id, _token(credential.compact, licence_req, holder, "given_name")
    )
    assert (done.state, done.reason) == ("invalid", "wrong_vct")
    with session_factory.begin() as db:
        issuance.revoke(db, credential.credential_id, reason="staff", by="test", now=NOW)
    req = new_request()
    done = _answer(session_factory, key, req.id, _token(credential.compact, req, holder))
    assert (done.state, done.reason, done.disclosed) == ("invalid", "revoked", None)


def test_bad_requests_are_refused(new_request: Callable[..., presentations.RequestView]) -> None:
    with pytest.raises(InvalidInput):
        new_request(claims=())
    with pytest.raises(InvalidInput):
        new_request(claims=(["cnf"],))
    with pytest.raises(InvalidInput):
        new_request(vct="urn:other")

"""SD-JWT VC issuance, status lists and revocation against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from tests.conftest import NOW
from tests.integration.conftest import move_in, person

from tsunagu.audit.models import AuditEntry
from tsunagu.credentials.core import sdjwt, sdjwt_verify
from tsunagu.credentials.core.sdjwt_claims import AGE_VCT, DRIVING_LICENCE_VCT, QUALIFICATION_VCT
from tsunagu.credentials.core.sdjwt_jws import b64u, parse
from tsunagu.credentials.core.sdjwt_reasons import Reason
from tsunagu.credentials.core.statuslist import decode_token
from tsunagu.credentials.models_sdjwt import IssuedSdJwt, Licence, Qualification
from tsunagu.credentials.services import sdjwt_events, status_lists
from tsunagu.credentials.services import sdjwt_issuance as issuance
from tsunagu.credentials.services.sdjwt_keys import IssuerKey, issuer_key, issuer_metadata
from tsunagu.kernel.clock import Clock
from tsunagu.registry.api import Filing, RegistryContext, record_death, registry_context
from tsunagu.settings import Settings

NOW_TS = int(NOW.timestamp())


class Ctx:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings


@pytest.fixture
def sctx(settings: Settings) -> Ctx:
    return Ctx(settings.model_copy(update={"public_url": "https://city.example.jp"}))


@pytest.fixture
def key(sctx: Ctx) -> IssuerKey:
    return issuer_key(sctx.settings)


@pytest.fixture
def holder() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def resident(session_factory: sessionmaker[Session], ctx: RegistryContext) -> Callable[..., int]:
    def make(birth: dt.date = dt.date(1980, 4, 1), licence: bool = False, nurse: bool = False) -> int:
        with session_factory.begin() as db:
            pid = move_in(db, ctx, person(birth=birth))
            if licence:
                db.add(
                    Licence(
                        person_id=pid,
                        number=f"{pid:012d}",
                        colour="gold",
                        categories={"ordinary": "2000-05-01", "ordinary_motorcycle": "2001-06-01"},
                        conditions=["glasses"],
                        issue_date=dt.date(2024, 5, 1),
                        expiry_date=dt.date(2029, 6, 1),
                        authority="神奈川県公安委員会",
                        state="valid",
                        updated_at=NOW,
                    )
                )
            if nurse:
                db.add(
                    Qualification(
                        person_id=pid,
                        code="nurse",
                        name="看護師",
                        registration_number=f"N{pid:07d}",
                        registration_date=dt.date(2005, 4, 1),
                        authority="厚生労働大臣",
                        state="valid",
                    )
                )
        return pid

    return make


def _issue(
    factory: sessionmaker[Session], sctx: Ctx, pid: int, kind: str, holder: ec.EllipticCurvePrivateKey
) -> issuance.Issued:
    with factory.begin() as db:
        return issuance.issue_for(db, sctx, pid, kind, sdjwt.holder_binding(holder), now=NOW)


def _verify(
    factory: sessionmaker[Session], key: IssuerKey, compact: str, holder: ec.EllipticCurvePrivateKey,
    disclose: list[str],
) -> sdjwt_verify.Verification:  # fmt: skip
    token = sdjwt.present(compact, disclose=disclose, holder_key=holder, aud="a", nonce="n", iat=NOW_TS)
    with factory() as db:
        status_token = status_lists.status_token(db, key, 1, now=NOW)
    return sdjwt_verify.verify(
        token, trust=key.trust(), aud="a", nonce="n", now=NOW_TS, status=status_token, required=disclose
    )


def test_the_age_credential_is_bound_signed_and_has_a_status_entry(
    session_factory: sessionmaker[Session], sctx: Ctx, key: IssuerKey, holder: ec.EllipticCurvePrivateKey,
    resident: Callable[..., int],
) -> None:  # fmt: skip
    pid = resident()
    issued = _issue(session_factory, sctx, pid, "age", holder)
    payload = parse(sdjwt.split(issued.compact).issuer_jwt).payload
    assert payload["iss"] == "https://city.example.jp/credentials/vc"
    assert payload["vct"] == AGE_VCT
    assert payload["cnf"] == {"jwk": sdjwt.holder_binding(holder)}
    assert payload["status"]["status_list"]["uri"] == "https://city.example.jp/credentials/vc/status/1"
    assert "birth_date" not in payload  # every subject claim is hidden behind a digest
    result = _verify(session_factory, key, issued.compact, holder, ["age_over_20"])
    assert result.valid, result
    assert result.claims["age_over_20"] is True
    assert "birth_date" not in result.claims
    assert issuer_metadata(sctx.settings)["jwks"]["keys"][0]["kid"] == key.kid
    with session_factory() as db:
        assert db.scalar(select(func.count()).where(AuditEntry.action == "credentials:sdjwt:issue")) == 1


def test_a_minor_is_not_over_20(
    session_factory: sessionmaker[Session], sctx: Ctx, key: IssuerKey, holder: ec.EllipticCurvePrivateKey,
    resident: Callable[..., int],
) -> None:  # fmt: skip
    pid = resident(birth=dt.date(2007, 11, 27))  # 19 on 2026-11-26, 20 the next day
    issued = _issue(session_factory, sctx, pid, "age", holder)
    result = _verify(session_factory, key, issued.compact, holder, ["age_over_20", "age_over_18"])
    assert result.valid
    assert (result.claims["age_over_20"], result.claims["age_over_18"]) == (False, True)


def test_licence_and_qualification_come_from_their_tables(
    session_factory: sessionmaker[Session], sctx: Ctx, key: IssuerKey, holder: ec.EllipticCurvePrivateKey,
    resident: Callable[..., int],
) -> None:  # fmt: skip
    pid = resident(licence=True, nurse=True)
    with session_factory() as db:
        kinds = {o.kind: o.available for o in issuance.offers_for(db, pid, today=NOW.date())}
    assert kinds == {"age": True, "driving_licence": True, "qualification": True}
    licence = _issue(session_factory, sctx, pid, "driving_licence", holder)
    assert licence.vct == DRIVING_LICENCE_VCT
    assert licence.expires_at <= dt.datetime(2029, 6, 2, tzinfo=dt.UTC)
    result = _verify(session_factory, key, licence.compact, holder, ["driving_privileges", "document_number"])
    assert result.valid, result
    assert result.claims["document_number"] == f"{pid:012d}"
    codes = [p["vehicle_category_code"] for p in result.claims["driving_privileges"]]
    assert codes == ["ordinary", "ordinary_motorcycle"]
    nurse = _issue(session_factory, sctx, pid, "qualification", holder)
    assert nurse.vct == QUALIFICATION_VCT
    result = _verify(session_factory, key, nurse.compact, holder, ["qualification_name"])
    assert result.valid
    assert result.claims["qualification_name"] == "看護師"


def test_no_licence_no_licence_credential(
    session_factory: sessionmaker[Session], sctx: Ctx, holder: ec.EllipticCurvePrivateKey,
    resident: Callable[..., int],
) -> None:  # fmt: skip
    pid = resident()
    with session_factory() as db:
        assert [o.kind for o in issuance.offers_for(db, pid, today=NOW.date())] == ["age"]
    with pytest.raises(issuance.NotEligible):
        _issue(session_factory, sctx, pid, "driving_licence", holder)
    with pytest.raises(issuance.NotEligible):
        _issue(session_factory, sctx, pid, "passport", holder)


def test_a_private_holder_key_is_refused_and_nothing_is_written(
    session_factory: sessionmaker[Session], sctx: Ctx, holder: ec.EllipticCurvePrivateKey,
    resident: Callable[..., int],
) -> None:  # fmt: skip
    pid = resident()
    private = {
        **sdjwt.holder_binding(holder),
        "d": b64u(holder.private_numbers().private_value.to_bytes(32, "big")),
    }
    with session_factory.begin() as db, pytest.raises(issuance.HolderKeyInvalid) as info:
        issuance.issue_for(db, sctx, pid, "age", private, now=NOW)
    assert "秘密鍵" in info.value.message_ja
    assert "private key" in info.value.message_en
    rsa_like = {"kty": "RSA", "n": "x", "e": "AQAB"}
    with session_factory.begin() as db, pytest.raises(issuance.HolderKeyInvalid):
        issuance.issue_for(db, sctx, pid, "age", rsa_like, now=NOW)
    with session_factory() as db:
        assert db.scalar(select(func.count()).select_from(IssuedSdJwt)) == 0


def test_revocation_shows_in_the_status_list(
    session_factory: sessionmaker[Session], sctx: Ctx, key: IssuerKey, holder: ec.EllipticCurvePrivateKey,
    resident: Callable[..., int],
) -> None:  # fmt: skip
    pid = resident()
    first = _issue(session_factory, sctx, pid, "age", holder)
    second = _issue(session_factory, sctx, pid, "age", holder)
    with session_factory() as db:
        rows = db.scalars(select(IssuedSdJwt).order_by(IssuedSdJwt.id)).all()
        (_, a), (_, b) = [(r.status_list_id, r.status_index) for r in rows]
        assert {r.status_list_id for r in rows} == {1}
    with session_factory.begin() as db:
        view = issuance.revoke(db, first.credential_id, reason="holder_request", by="test", now=NOW)
        assert view.revoked_at is not None
    with session_factory() as db:
        token = status_lists.status_token(db, key, 1, now=NOW)
    jwks = {k["kid"]: k for k in key.jwks()["keys"]}
    decoded = decode_token(token, keys=jwks, now=NOW_TS, uri=key.status_uri(1), iss=key.iss)
    assert (decoded.status_list.get(a), decoded.status_list.get(b)) == (1, 0)
    assert sum(decoded.status_list.get(i) for i in range(decoded.status_list.size)) == 1
    revoked = _verify(session_factory, key, first.compact, holder, ["age_over_20"])
    assert (revoked.valid, revoked.reason) == (False, Reason.REVOKED)
    assert _verify(session_factory, key, second.compact, holder, ["age_over_20"]).valid


def test_status_indices_are_random_unique_and_never_reused(
    session_factory: sessionmaker[Session], sctx: Ctx, holder: ec.EllipticCurvePrivateKey,
    resident: Callable[..., int], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setattr(status_lists, "LIST_SIZE", 16)
    monkeypatch.setattr(status_lists, "FILL", 8)
    draws = random.Random(7)  # noqa: S311 - repeatable draws that repeat: the retry on a taken index runs too
    monkeypatch.setattr(status_lists.secrets, "randbelow", draws.randrange)
    pid = resident()
    first = _issue(session_factory, sctx, pid, "age", holder)
    with session_factory.begin() as db:
        issuance.revoke(db, first.credential_id, reason="staff", by="test", now=NOW)
    for _ in range(11):
        _issue(session_factory, sctx, pid, "age", holder)
    with session_factory() as db:
        entries = [(r.status_list_id, r.status_index) for r in db.scalars(select(IssuedSdJwt))]
    assert len(set(entries)) == 12  # the revoked credential's index is not given again
    assert [list_id for list_id, _ in sorted(entries)].count(1) == 8  # a list takes FILL credentials
    assert {list_id for list_id, _ in entries} == {1, 2}
    assert all(0 <= index < 16 for _, index in entries)
    first_list = sorted(index for list_id, index in entries if list_id == 1)
    assert first_list != list(range(8))  # drawn, not handed out in order


def test_a_suspended_licence_revokes_its_credentials_only(
    session_factory: sessionmaker[Session], sctx: Ctx, key: IssuerKey, holder: ec.EllipticCurvePrivateKey,
    resident: Callable[..., int],
) -> None:  # fmt: skip
    pid = resident(licence=True)
    age = _issue(session_factory, sctx, pid, "age", holder)
    licence = _issue(session_factory, sctx, pid, "driving_licence", holder)
    with session_factory.begin() as db:
        assert issuance.set_licence_state(db, pid, "suspended", by="test", now=NOW) == 1
    assert (
        _verify(session_factory, key, licence.compact, holder, ["driving_privileges"]).reason
        == Reason.REVOKED
    )
    assert _verify(session_factory, key, age.compact, holder, ["age_over_20"]).valid
    with session_factory() as db:
        offers = {o.kind: o.available for o in issuance.offers_for(db, pid, today=NOW.date())}
        assert offers["driving_licence"] is False
    with pytest.raises(issuance.NotEligible):
        _issue(session_factory, sctx, pid, "driving_licence", holder)


def test_a_recorded_death_revokes_the_persons_credentials(
    session_factory: sessionmaker[Session], settings: Settings, clock: Clock, sctx: Ctx, key: IssuerKey,
    holder: ec.EllipticCurvePrivateKey, resident: Callable[..., int],
) -> None:  # fmt: skip
    pid = resident()
    issued = _issue(session_factory, sctx, pid, "age", holder)
    other = _issue(session_factory, sctx, resident(), "age", holder)
    with_listener = registry_context(settings, clock, [sdjwt_events.registry_listener()])
    with session_factory.begin() as db:
        record_death(db, with_listener, pid, dt.date(2026, 11, 20), Filing("test-clerk"))
    assert _verify(session_factory, key, issued.compact, holder, ["age_over_20"]).reason == Reason.REVOKED
    assert _verify(session_factory, key, other.compact, holder, ["age_over_20"]).valid
    with session_factory() as db:
        row = db.get(IssuedSdJwt, issued.credential_id)
        assert row is not None
        assert row.revoked_reason == "deceased"
        with pytest.raises(issuance.NotEligible):
            issuance.issue_for(db, sctx, pid, "age", sdjwt.holder_binding(holder), now=NOW)

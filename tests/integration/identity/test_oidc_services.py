"""OIDC provider storage on SQLite and PostgreSQL: the signing key sealed at rest, secrets and codes hashed,
codes burnt once, consents replaced and withdrawn."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tsunagu.identity.oidc import services
from tsunagu.identity.oidc.keys import SigningKeys
from tsunagu.identity.oidc.models import OidcAccessToken, OidcAuthorizationCode, OidcConsent, OidcSigningKey
from tsunagu.kernel.access import CitizenPrincipal
from tsunagu.kernel.clock import Clock
from tsunagu.kernel.crypto import token_hash
from tsunagu.settings import Settings

ME = CitizenPrincipal(7, "山田 花子", "card", "urn:tsunagu:acr:jpki-card", 1_795_654_800, "h" * 64)


def test_the_signing_key_is_created_once_and_sealed_at_rest(
    session_factory: sessionmaker[Session], settings: Settings, clock: Clock
) -> None:
    keys = SigningKeys.from_master(settings.master_secret())
    with session_factory.begin() as db:
        kid, key = keys.current(db, clock)
    assert kid == key.thumbprint()
    again = SigningKeys.from_master(settings.master_secret())  # another process: reads and unseals it
    with session_factory.begin() as db:
        assert again.current(db, clock)[0] == kid
        jwks = again.jwks(db, clock)
        [row] = db.scalars(select(OidcSigningKey)).all()
    assert [k["kid"] for k in jwks["keys"]] == [kid]
    private = key.as_dict(private=True)["d"]
    assert str(private).encode() not in row.sealed_private_key
    assert private not in json.dumps(row.public_jwk)


def test_a_client_secret_is_stored_as_a_hash(session_factory: sessionmaker[Session], clock: Clock) -> None:
    with session_factory.begin() as db:
        made = services.register_client(
            db,
            clock,
            name="つなぐ銀行",
            name_en="Tsunagu Bank",
            sector="private",
            redirect_uris=["https://bank.example.jp/cb"],
            scopes="openid profile",
        )
    assert made.client_secret
    assert made.sector_identifier == "bank.example.jp"
    with session_factory.begin() as db:
        assert services.check_secret(db, made.client_id, made.client_secret)
        assert not services.check_secret(db, made.client_id, made.client_secret + "x")
        view = services.get_client(db, made.client_id)
    assert view is not None
    assert view.scopes == ["openid", "profile"]


def test_consents_are_replaced_and_withdrawn_and_withdrawal_revokes_tokens(
    session_factory: sessionmaker[Session], clock: Clock
) -> None:
    with session_factory.begin() as db:
        rp = services.register_client(
            db,
            clock,
            name="市",
            name_en="City",
            sector="public",
            redirect_uris=["https://city.example.lg.jp/cb"],
            scopes="openid profile address",
        ).client_id
        services.give_consent(db, clock, ME, rp, ["openid", "profile"])
        services.give_consent(db, clock, ME, rp, ["openid", "profile", "address"])
        assert services.has_consent(db, ME.person_id, rp, ["openid", "address"])
        code = services.NewCode(
            rp,
            ME.person_id,
            "https://city.example.lg.jp/cb",
            "openid",
            None,
            "c" * 43,
            "S256",
            ME.acr,
            ME.auth_time,
        )
        services.save_code(db, clock, "the-code", code)
        db.flush()
        row = services.find_code(db, "the-code")
        assert row is not None
        services.save_access_token(db, clock, "the-token", row, 600)
    with session_factory.begin() as db:
        [live] = services.connections(db, ME.person_id)
        assert live.scopes == ["openid", "profile", "address"]
        services.withdraw_consent(db, clock, ME, live.consent_id)
    with session_factory.begin() as db:
        assert services.connections(db, ME.person_id) == []
        assert len(db.scalars(select(OidcConsent)).all()) == 2  # withdrawn, never deleted
        token = db.get(OidcAccessToken, token_hash("the-token"))
        assert token is not None
        assert token.revoked
        assert db.get(OidcAuthorizationCode, token_hash("the-code")) is not None
        assert db.get(OidcAuthorizationCode, "the-code") is None  # only the hash is the key

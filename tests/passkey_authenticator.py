"""A software WebAuthn authenticator and client for tests: real bytes, built per WebAuthn Level 2, that
py_webauthn verifies exactly as it verifies a browser's.

It holds one discoverable P-256 credential (ES256). ``create`` answers ``navigator.credentials.create()``
options with a ``none`` attestation; ``get`` answers ``navigator.credentials.get()`` options with an assertion.
Both return the JSON a browser's ``PublicKeyCredential.toJSON()`` gives (base64url for binary fields).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

FLAG_UP = 0x01  # user present
FLAG_UV = 0x04  # user verified
FLAG_AT = 0x40  # attested credential data included
COSE_KTY_EC2, COSE_ALG_ES256, COSE_CRV_P256 = 2, -7, 1


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CredentialExcluded(Exception):
    """The authenticator already holds an excluded credential (the browser's InvalidStateError)."""


class SoftAuthenticator:
    def __init__(self, origin: str, *, aaguid: bytes = bytes(16)) -> None:
        self.origin = origin
        self.aaguid = aaguid
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = secrets.token_bytes(32)
        self.sign_count = 0
        self.user_handle: bytes | None = None

    def _cose_public_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: COSE_KTY_EC2,
                3: COSE_ALG_ES256,
                -1: COSE_CRV_P256,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    @staticmethod
    def _client_data(kind: str, challenge: str, origin: str) -> bytes:
        return json.dumps(
            {"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False},
            separators=(",", ":"),
        ).encode()

    def create(
        self, options: dict[str, Any], *, origin: str | None = None, verified: bool = True
    ) -> dict[str, Any]:
        """Make the credential for ``options`` (PublicKeyCredentialCreationOptions JSON)."""
        excluded = {unb64url(d["id"]) for d in options.get("excludeCredentials", [])}
        if self.credential_id in excluded:
            raise CredentialExcluded
        rp_id = options["rp"]["id"]
        self.user_handle = unb64url(options["user"]["id"])
        attested = (
            self.aaguid
            + struct.pack(">H", len(self.credential_id))
            + self.credential_id
            + self._cose_public_key()
        )
        flags = FLAG_UP | FLAG_AT | (FLAG_UV if verified else 0)
        auth_data = hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + struct.pack(">I", 0) + attested
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data("webauthn.create", options["challenge"], origin or self.origin)
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation),
                "transports": ["internal"],
            },
        }

    def get(
        self,
        options: dict[str, Any],
        *,
        origin: str | None = None,
        verified: bool = True,
        sign_count: int | None = None,
    ) -> dict[str, Any]:
        """Sign an assertion for ``options`` (PublicKeyCredentialRequestOptions JSON). The counter grows by one
        unless ``sign_count`` forces a value (a cloned authenticator reports an old one)."""
        self.sign_count = self.sign_count + 1 if sign_count is None else sign_count
        flags = FLAG_UP | (FLAG_UV if verified else 0)
        auth_data = (
            hashlib.sha256(options["rpId"].encode()).digest()
            + bytes([flags])
            + struct.pack(">I", self.sign_count)
        )
        client_data = self._client_data("webauthn.get", options["challenge"], origin or self.origin)
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        response = {
            "clientDataJSON": b64url(client_data),
            "authenticatorData": b64url(auth_data),
            "signature": b64url(signature),
        }
        if self.user_handle is not None:
            response["userHandle"] = b64url(self.user_handle)
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": response,
        }

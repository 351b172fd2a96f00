"""The card-login challenge–response protocol (pure: message construction and limits, no I/O).

Protocol ``tsunagu-card-login-v1`` (documented in ``docs/card-login.md``):

1. The client asks for a challenge: ``POST /api/v1/card-login/challenges`` → ``challenge_id`` (its expiry, 96
   random bits and a MAC), ``nonce`` (256 bits, base64url; a MAC of the id under a server key, so the server
   need not store it), ``audience`` (the server's public URL) and ``expires_at`` (:data:`CHALLENGE_SECONDS`
   later). A challenge is single use: its id is written once, when it is answered.
2. The client reads the 利用者証明用電子証明書 from the card and has the card sign :func:`to_be_signed` with the
   authentication key (the card checks the 4-digit PIN): ECDSA P-256 with SHA-256, DER-encoded signature.
3. The client sends ``challenge_id``, the certificate (DER, base64) and the signature (base64):
   ``POST /api/v1/card-login/sessions``. The server checks the challenge (known, unexpired, unused), the
   certificate (chain to the authentication CA, validity, revocation), the signature over the same bytes, and the
   card (active) and the person (a current resident), then opens a session.

The signed bytes bind the signature to this server (audience) and to this challenge, so a signature cannot be
replayed to another server or reused for another login.
"""

from __future__ import annotations

import base64
import binascii

PROTOCOL = "tsunagu-card-login-v1"
CHALLENGE_SECONDS = 120  # a person has two minutes to hold the card to the reader and type the PIN
NONCE_BYTES = 32
MAX_CHALLENGE_ID = 96  # expiry, 96 random bits, an optional 2D-code login id and a MAC
MAX_CERTIFICATE_BYTES = 4096
MAX_SIGNATURE_BYTES = 80  # a DER ECDSA P-256 signature is at most 72 bytes


def to_be_signed(audience: str, challenge_id: str, nonce: str) -> bytes:
    """The exact bytes the card signs: four lines, UTF-8, no trailing newline."""
    return f"{PROTOCOL}\n{audience}\n{challenge_id}\n{nonce}".encode()


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str, limit: int) -> bytes | None:
    """Decode standard or URL-safe base64 of at most ``limit`` bytes; ``None`` when malformed or too long."""
    if not isinstance(text, str) or len(text) > limit * 2:
        return None
    cleaned = text.strip().replace("-", "+").replace("_", "/")
    cleaned += "=" * (-len(cleaned) % 4)
    try:
        data = base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError):
        return None
    return data if 0 < len(data) <= limit else None

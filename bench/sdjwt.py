"""Benchmark: SD-JWT VC issuance, presentation and verification (issue 7), one core, in-process.

Baseline, measured in the same run: the raw ES256 sign and verify rates of `cryptography` on P-256 (a credential
costs one issuer signature; a presentation one holder signature; a verification two ECDSA verifies, the issuer's
and the key binding's). The credential is the age credential with a name and an address (ten disclosures, two
decoys); the presentation discloses `age_over_20` alone; the verification checks a status list too (a callable,
so no token parsing is timed).

    python bench/sdjwt.py [--seconds 3] [--markdown]
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections.abc import Callable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from tsunagu.credentials.core import sdjwt, sdjwt_claims
from tsunagu.credentials.core.sdjwt_jws import jwk_thumbprint, public_jwk
from tsunagu.credentials.core.sdjwt_verify import verify

ISS = "https://credentials.tsunagu.example"
AUD = "https://verifier.example"
NOW = 1_790_000_000


def rate(seconds: float, work: Callable[[], object]) -> float:
    """Operations per second of ``work`` over about ``seconds`` of wall-clock time (after a short warm-up)."""
    for _ in range(20):
        work()
    done, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(50):
            work()
        done += 50
    return done / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()

    issuer, holder = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    jwk = public_jwk(issuer)
    kid = jwk_thumbprint(jwk)
    trust = {ISS: {"keys": [{**jwk, "kid": kid}]}}
    claim_set = sdjwt_claims.age_credential(
        dt.date(1992, 5, 17),
        dt.date(2026, 9, 21),
        family_name="山田",
        given_name="花子",
        address={
            "postal_code": "100-0001",
            "region": "東京都",
            "locality": "千代田区",
            "street_address": "1-1",
        },
    )
    holder_jwk = sdjwt.holder_binding(holder)
    status = sdjwt.StatusReference(7, f"{ISS}/statuslists/1")

    def issue() -> str:
        return sdjwt.issue(
            claim_set.claims, disclosable=claim_set.disclosable, key=issuer, kid=kid, iss=ISS,
            vct=claim_set.vct, iat=NOW, exp=NOW + 86_400, holder_jwk=holder_jwk, status=status, decoys=2,
        )  # fmt: skip

    credential = issue()

    def present() -> str:
        return sdjwt.present(
            credential, disclose=["age_over_20"], holder_key=holder, aud=AUD, nonce="n", iat=NOW
        )

    presentation = present()

    def check() -> object:
        result = verify(presentation, trust=trust, aud=AUD, nonce="n", now=NOW, status=lambda uri, idx: 0)
        assert result.valid, result
        return result

    message = b"x" * 600
    signature = issuer.sign(message, ec.ECDSA(hashes.SHA256()))
    public = issuer.public_key()
    ecdsa = ec.ECDSA(hashes.SHA256())
    rows = [
        ("raw ES256 sign (baseline)", rate(args.seconds, lambda: issuer.sign(message, ecdsa))),
        ("raw ES256 verify (baseline)", rate(args.seconds, lambda: public.verify(signature, message, ecdsa))),
        ("issuance (claims → SD-JWT VC, 10 disclosures)", rate(args.seconds, issue)),
        ("presentation (choose + KB-JWT)", rate(args.seconds, present)),
        ("verification (issuer sig + disclosures + KB + status)", rate(args.seconds, check)),
    ]  # fmt: skip
    if args.markdown:
        print("| operation | per second (1 core) |\n|---|---|")
        for name, value in rows:
            print(f"| {name} | {value:,.0f} |")
    else:
        for name, value in rows:
            print(f"{name:<58} {value:>10,.0f}/s")
    print(f"sizes: credential {len(credential)} chars, presentation {len(presentation)} chars")


if __name__ == "__main__":
    main()

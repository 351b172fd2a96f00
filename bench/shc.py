"""Benchmark: SMART Health Card issuance and verification on all cores (issue 7 targets on 2 cores: issuance
(bundle + sign) ≥ 5,000/s, verification ≥ 3,000/s, issuance with a QR PNG ≥ 60/s), each printed beside the raw ES256
sign rate of the same run.

    .venv/bin/python bench/shc.py [--seconds S] [--workers W]

Each figure runs W processes for S seconds and adds their counts. The card: a domestic certificate with three doses
(the Japanese app's typical card), signed with a fresh P-256 key. Verification cycles through 2,000 different cards
(names, birth dates, lots and dates differ; 3 vaccines at 20 places), so the FHIR model layer sees a population's
variety; it is also shown with every resource validated whole by the model (no shape reuse). The QR figure is
measured twice: with segno's default mask choice and segno's PNG writer, and with the fixed mask and the PNG writer
tsunagu uses (scale 4)."""

from __future__ import annotations

import argparse
import io
import itertools
import multiprocessing
import os
import random
import time
from collections.abc import Callable
from datetime import date

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from tsunagu.credentials.core import fhir, qr, shc, verify

ISS = "https://vc.example.jp/issuer"
NBF = 1_780_000_000
KEY = ec.generate_private_key(ec.SECP256R1())
JWK = shc.public_jwk(KEY.public_key())
TRUST = {ISS: {"keys": [JWK]}}
PERSON = fhir.Vaccinee(
    family="山田",
    given=("太郎",),
    birth_date=date(1980, 4, 1),
    doses=tuple(
        fhir.Dose("208", date(2021, m, 1), lot=f"FF{m:04d}", manufacturer="Pfizer", performer="藤沢市")
        for m in (6, 7, 12)
    ),
)


def issue() -> str:
    payload = shc.build_payload(iss=ISS, nbf=NBF, bundle=fhir.immunization_bundle(PERSON))
    return shc.sign(payload, KEY, JWK["kid"])


JWS = issue()


def raw_sign() -> object:
    return KEY.sign(b"x" * 600, ec.ECDSA(hashes.SHA256()))


def _population(n: int) -> list[str]:
    rng = random.Random(7)
    families, givens = (
        ["山田", "佐藤", "鈴木", "高橋", "田中", "伊藤"],
        ["太郎", "花子", "一郎", "美咲", "健", "陽菜"],
    )
    vaccines = [("208", "PFR"), ("207", "MOD"), ("211", "NVX")]
    places = [f"架空市{n:02d}" for n in range(20)]
    cards = []
    for _ in range(n):
        cvx, mvx = rng.choice(vaccines)
        place = rng.choice(places)
        person = fhir.Vaccinee(
            family=rng.choice(families),
            given=(rng.choice(givens),),
            birth_date=date(1930, 1, 1) + (date(2010, 1, 1) - date(1930, 1, 1)) * rng.random(),
            doses=tuple(
                fhir.Dose(
                    cvx,
                    date(2021, 3, 1) + (date(2023, 9, 1) - date(2021, 3, 1)) * rng.random(),
                    lot=f"{mvx[:2]}{rng.randrange(10000):04d}",
                    manufacturer=mvx,
                    performer=place,
                )
                for _ in range(3)
            ),
        )
        cards.append(
            shc.sign(shc.build_payload(iss=ISS, nbf=NBF, bundle=fhir.immunization_bundle(person)), KEY)
        )
    return cards


CARDS = itertools.cycle(_population(2000))


def verify_one() -> object:
    [result] = verify.verify(next(CARDS), TRUST, NBF)
    if not result.valid:
        raise SystemExit(f"benchmark card does not verify: {result.findings}")
    return result


def verify_whole_models() -> object:
    fhir._shapes.clear()
    return verify_one()


def issue_png() -> bytes:
    return qr.png(issue(), scale=4)


def _png_default() -> bytes:
    out = io.BytesIO()
    qr.make(issue(), mask=None).save(out, kind="png", scale=4, border=4)
    return out.getvalue()


TASKS: dict[str, Callable[[], object]] = {
    "raw ES256 sign": raw_sign,
    "SHC issuance (bundle + sign)": issue,
    "SHC verification": verify_one,
    "SHC verification, no FHIR shape reuse": verify_whole_models,
    "SHC issuance + QR PNG (tsunagu: fixed mask)": issue_png,
    "SHC issuance + QR PNG (segno defaults)": _png_default,
}


def _worker(args: tuple[str, float]) -> int:
    name, seconds = args
    fn = TASKS[name]
    count, end = 0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        fn()
        count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    code = qr.make(JWS)
    print(
        f"card: JWS {len(JWS)} characters, QR version {code.version}-{code.error}, {args.workers} processes"
    )
    with multiprocessing.get_context("fork").Pool(args.workers) as pool:
        for name in TASKS:
            counts = pool.map(_worker, [(name, args.seconds)] * args.workers)
            print(f"{name:45s} {sum(counts) / args.seconds:10,.0f}/s")


if __name__ == "__main__":
    main()

"""Synthetic driver's licences and national qualifications for the demo municipality (deterministic for a seed).

About 40% of adults hold a licence, every adult card holder but one in three among them (so the e2e journeys,
which take card holders, meet people with and without one); a few percent hold a qualification, and the first adult
card holder is a nurse. Numbers are synthetic: the 12-digit licence number is the 公安委員会 code, the year first
licensed, the person id and a check digit, then the reissue count."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from tsunagu.credentials.models_sdjwt import Licence, Qualification

LICENCE_SHARE = 0.4
QUALIFICATION_SHARE = 0.03
COMMISSION_CODES = {"神奈川県": "45", "東京都": "30"}
QUALIFICATIONS = (
    ("nurse", "看護師", "厚生労働大臣"),
    ("pharmacist", "薬剤師", "厚生労働大臣"),
    ("physician", "医師", "厚生労働大臣"),
    ("care_worker", "介護福祉士", "厚生労働大臣"),
    ("childcare_worker", "保育士", "都道府県知事"),
)


def _years_later(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _licence(
    rnd: random.Random, person_id: int, birth: dt.date, as_of: dt.date, prefecture: str
) -> dict[str, Any]:
    first = _years_later(birth, 18 + rnd.randrange(8))
    first = min(first, as_of - dt.timedelta(days=30))
    held = (as_of - first).days // 365
    colour = "green" if held < 3 else ("gold" if rnd.random() < 0.6 else "blue")
    term = 3 if colour == "green" else 5
    expiry_year = as_of.year + 1 + rnd.randrange(term)
    expiry = _years_later(birth, expiry_year - birth.year) + dt.timedelta(days=31)  # 誕生日の1か月後
    issue = _years_later(expiry, -term) - dt.timedelta(days=30)
    issue = max(min(issue, as_of - dt.timedelta(days=1)), first)
    categories = {"ordinary": first.isoformat()}
    if rnd.random() < 0.25:
        categories["ordinary_motorcycle"] = _years_later(first, rnd.randrange(3)).isoformat()
    if held >= 5 and rnd.random() < 0.1:
        categories["medium"] = _years_later(first, 3).isoformat()
    body = f"{COMMISSION_CODES.get(prefecture, '45')}{first.year % 100:02d}{person_id % 1_000_000:06d}"
    check = sum(int(d) * (i + 2) for i, d in enumerate(reversed(body))) % 11 % 10
    return {
        "person_id": person_id,
        "number": f"{body}{check}0",
        "colour": colour,
        "categories": categories,
        "conditions": ["glasses"] if rnd.random() < 0.3 else [],
        "issue_date": issue,
        "expiry_date": expiry,
        "authority": f"{prefecture}公安委員会",
        "state": "valid",
        "updated_at": dt.datetime.combine(issue, dt.time(9), tzinfo=dt.UTC),
    }


def seed_demo_licences(
    db: Session,
    people: Iterable[tuple[int, dt.date]],
    *,
    holders: Iterable[int],
    prefecture: str,
    as_of: dt.date,
    seed: int,
) -> tuple[int, int]:
    """Licences and qualifications for ``people`` (id, birth date); the numbers (licences, qualifications)."""
    rnd = random.Random(seed * 7919 + 17)  # noqa: S311 - synthetic demo data, not security
    holder_set = set(holders)
    licences: list[dict[str, Any]] = []
    qualifications: list[dict[str, Any]] = []
    nurse_given = False
    for person_id, birth in people:
        if (as_of - birth).days < 19 * 365:
            continue
        in_holders = person_id in holder_set
        if (in_holders and person_id % 3 != 2) or (not in_holders and rnd.random() < LICENCE_SHARE):
            licences.append(_licence(rnd, person_id, birth, as_of, prefecture))
        if (in_holders and not nurse_given) or rnd.random() < QUALIFICATION_SHARE:
            code, name, authority = QUALIFICATIONS[
                0 if not nurse_given else rnd.randrange(len(QUALIFICATIONS))
            ]
            nurse_given = nurse_given or in_holders
            registered = _years_later(birth, 22 + rnd.randrange(10))
            qualifications.append({
                "person_id": person_id, "code": code, "name": name, "registration_number": f"{person_id:06d}",
                "registration_date": min(registered, as_of), "authority": authority, "state": "valid",
            })  # fmt: skip
    if licences:
        db.execute(insert(Licence), licences)
    if qualifications:
        db.execute(insert(Qualification), qualifications)
    return len(licences), len(qualifications)

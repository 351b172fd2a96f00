"""Claim sets of the SD-JWT VCs tsunagu issues: age, driver's licence (運転免許証), qualification (国家資格). Pure.

Each builder returns a :class:`ClaimSet` (``vct``, the claims, the disclosable paths) for
:func:`tsunagu.credentials.core.sdjwt.issue`. Names follow OpenID Connect and ISO/IEC 18013-5 (mDL) where one
exists, so wallets and verifiers abroad read them; every subject claim is selectively disclosable.

**Age** (``urn:jp:tsunagu:vct:age:1``): ``age_over_18`` (成年, Civil Code art. 4 since 2022), ``age_over_20``
(飲酒・喫煙, the alcohol and tobacco age), ``birth_date`` (ISO date); optionally ``family_name``, ``given_name`` and
``address`` (``postal_code``, ``region``, ``locality``, ``street_address``, each member disclosable on its own).
The age thresholds are computed at issuance on the issue date: someone born on 29 February reaches an age on
1 March in a common year (年齢計算ニ関スル法律 with Civil Code art. 143).

**Driver's licence** (``urn:jp:tsunagu:vct:driving_licence:1``): ``family_name``, ``given_name``, ``birth_date``,
``address``, ``document_number`` (免許証番号, 12 digits), ``issue_date``, ``expiry_date``, ``issuing_authority``
(公安委員会), ``issuing_country`` (``JP``), ``licence_colour`` (``green``, ``blue``, ``gold``: the band colour),
``driving_privileges`` (a list of ``{"vehicle_category_code", "issue_date"}``, each element disclosable) and
``conditions`` (条件等, e.g. ``glasses``).

**Qualification** (``urn:jp:tsunagu:vct:qualification:1``): ``family_name``, ``given_name``, ``birth_date``,
``qualification`` (a code such as ``nurse`` for 看護師), ``qualification_name`` (its Japanese name),
``registration_number`` (登録番号), ``registration_date``, ``issuing_authority`` (e.g. 厚生労働大臣).

All data in tests and the demo is synthetic."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from tsunagu.credentials.core.sdjwt import ClaimPath

AGE_VCT = "urn:jp:tsunagu:vct:age:1"
DRIVING_LICENCE_VCT = "urn:jp:tsunagu:vct:driving_licence:1"
QUALIFICATION_VCT = "urn:jp:tsunagu:vct:qualification:1"
AGE_OF_MAJORITY = 18  # 成年年齢 (民法第4条, since 1 April 2022)
ALCOHOL_TOBACCO_AGE = 20  # 二十歳未満ノ者ノ飲酒ノ禁止ニ関スル法律, 喫煙も同じ
LICENCE_COLOURS = frozenset({"green", "blue", "gold"})
VEHICLE_CATEGORIES = {
    "large": "大型",
    "medium": "中型",
    "semi_medium": "準中型",
    "ordinary": "普通",
    "large_special": "大特",
    "large_motorcycle": "大自二",
    "ordinary_motorcycle": "普自二",
    "small_special": "小特",
    "moped": "原付",
}


@dataclass(frozen=True)
class ClaimSet:
    vct: str
    claims: dict[str, Any]
    disclosable: frozenset[ClaimPath]


def age_on(birth_date: dt.date, day: dt.date) -> int:
    """Completed years on ``day`` (someone born on 29 February ages on 1 March in a common year)."""
    if day < birth_date:
        raise ValueError("the day is before the birth date")
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def _person(
    family_name: str | None, given_name: str | None, address: dict[str, str] | None
) -> dict[str, Any]:
    person: dict[str, Any] = {}
    if family_name is not None:
        person["family_name"] = family_name
    if given_name is not None:
        person["given_name"] = given_name
    if address is not None:
        person["address"] = dict(address)
    return person


def _every_claim(claims: dict[str, Any]) -> frozenset[ClaimPath]:
    """Every top-level claim, every member of ``address`` and every element of a list, disclosable."""
    paths: set[ClaimPath] = set()
    for name, value in claims.items():
        paths.add((name,))
        if name == "address" and isinstance(value, dict):
            paths.update((name, member) for member in value)
        if isinstance(value, list):
            paths.update((name, index) for index in range(len(value)))
    return frozenset(paths)


def age_credential(
    birth_date: dt.date,
    issued_on: dt.date,
    *,
    family_name: str | None = None,
    given_name: str | None = None,
    address: dict[str, str] | None = None,
) -> ClaimSet:
    """The age credential: thresholds computed on ``issued_on``; name and address only if given."""
    age = age_on(birth_date, issued_on)
    claims: dict[str, Any] = {
        "age_over_18": age >= AGE_OF_MAJORITY,
        "age_over_20": age >= ALCOHOL_TOBACCO_AGE,
        "birth_date": birth_date.isoformat(),
        **_person(family_name, given_name, address),
    }
    return ClaimSet(AGE_VCT, claims, _every_claim(claims))


def driving_licence(
    *,
    family_name: str,
    given_name: str,
    birth_date: dt.date,
    address: dict[str, str],
    document_number: str,
    issue_date: dt.date,
    expiry_date: dt.date,
    issuing_authority: str,
    licence_colour: str,
    privileges: dict[str, dt.date],
    conditions: tuple[str, ...] = (),
) -> ClaimSet:
    """The driver's licence; ``privileges`` maps a vehicle category code (see ``VEHICLE_CATEGORIES``) to the date
    it was first granted."""
    if not (len(document_number) == 12 and document_number.isascii() and document_number.isdigit()):
        raise ValueError("a licence number is 12 digits")
    if licence_colour not in LICENCE_COLOURS:
        raise ValueError(f"the licence colour is one of {sorted(LICENCE_COLOURS)}")
    unknown = set(privileges) - set(VEHICLE_CATEGORIES)
    if unknown or not privileges:
        raise ValueError(f"unknown or no vehicle categories: {sorted(unknown)}")
    if expiry_date <= issue_date:
        raise ValueError("the licence expires after it is issued")
    claims: dict[str, Any] = {
        **_person(family_name, given_name, address),
        "birth_date": birth_date.isoformat(),
        "document_number": document_number,
        "issue_date": issue_date.isoformat(),
        "expiry_date": expiry_date.isoformat(),
        "issuing_authority": issuing_authority,
        "issuing_country": "JP",
        "licence_colour": licence_colour,
        "driving_privileges": [
            {"vehicle_category_code": code, "issue_date": since.isoformat()}
            for code, since in sorted(privileges.items())
        ],
        "conditions": list(conditions),
    }
    return ClaimSet(DRIVING_LICENCE_VCT, claims, _every_claim(claims))


def qualification(
    *,
    family_name: str,
    given_name: str,
    birth_date: dt.date,
    code: str,
    name: str,
    registration_number: str,
    registration_date: dt.date,
    issuing_authority: str,
) -> ClaimSet:
    """A national qualification certificate (e.g. ``code="nurse"``, ``name="看護師"``)."""
    if not code or not registration_number:
        raise ValueError("a qualification needs a code and a registration number")
    claims: dict[str, Any] = {
        **_person(family_name, given_name, None),
        "birth_date": birth_date.isoformat(),
        "qualification": code,
        "qualification_name": name,
        "registration_number": registration_number,
        "registration_date": registration_date.isoformat(),
        "issuing_authority": issuing_authority,
    }
    return ClaimSet(QUALIFICATION_VCT, claims, _every_claim(claims))

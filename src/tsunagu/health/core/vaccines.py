"""The vaccine catalogue (COVID-19 vaccines used in Japan) and the validation of a dose entry. Pure: no I/O.

Codes are the CDC's HL7 code sets: CVX (vaccine administered, ``http://hl7.org/fhir/sid/cvx``, as SMART Health Cards
expect) and MVX (manufacturer). Checked against the CDC CVX table and the SMART Health Cards COVID CVX value set
(2023.1). Japan-only products without a CVX code (e.g. ダイチロナ, コスタイベ) are not in the catalogue yet."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

COVID_FIRST_DAY = dt.date(2021, 2, 17)  # the first COVID-19 vaccinations in Japan (医療従事者等への先行接種)
LOT_MAX = 20


@dataclass(frozen=True)
class Vaccine:
    cvx: str  # CVX code
    manufacturer: str  # MVX code of the marketing manufacturer
    name_ja: str
    name_en: str
    disease: str = "covid19"


MANUFACTURERS: dict[str, tuple[str, str]] = {  # MVX → (Japanese, English)
    "PFR": ("ファイザー", "Pfizer-BioNTech"),
    "MOD": ("モデルナ", "Moderna"),
    "ASZ": ("アストラゼネカ", "AstraZeneca"),
    "NVX": ("ノババックス（武田薬品）", "Novavax (Takeda)"),
}

CATALOGUE: tuple[Vaccine, ...] = (
    Vaccine(
        "208", "PFR", "コミナティ筋注（ファイザー）12歳以上 起源株", "Comirnaty (Pfizer) 30 mcg, original"
    ),
    Vaccine(
        "217",
        "PFR",
        "コミナティ筋注（ファイザー）12歳以上 起源株 希釈不要",
        "Comirnaty (Pfizer) 30 mcg, tris-sucrose",
    ),
    Vaccine("218", "PFR", "コミナティ筋注（ファイザー）5〜11歳用", "Comirnaty (Pfizer) 10 mcg, ages 5-11"),
    Vaccine(
        "219", "PFR", "コミナティ筋注（ファイザー）6か月〜4歳用", "Comirnaty (Pfizer) 3 mcg, 6 months-4 years"
    ),
    Vaccine(
        "300",
        "PFR",
        "コミナティ RTU筋注（ファイザー）2価 起源株/オミクロン株",
        "Comirnaty bivalent (Pfizer) 30 mcg",
    ),
    Vaccine(
        "301",
        "PFR",
        "コミナティ筋注（ファイザー）5〜11歳用 2価",
        "Comirnaty bivalent (Pfizer) 10 mcg, ages 5-11",
    ),
    Vaccine(
        "309",
        "PFR",
        "コミナティ筋注（ファイザー）1価 XBB.1.5 等",
        "Comirnaty monovalent (Pfizer) 30 mcg, 2023-",
    ),
    Vaccine("207", "MOD", "スパイクバックス筋注（モデルナ）起源株", "Spikevax (Moderna), original"),
    Vaccine(
        "229", "MOD", "スパイクバックス筋注（モデルナ）2価 起源株/オミクロン株", "Spikevax bivalent (Moderna)"
    ),
    Vaccine(
        "312", "MOD", "スパイクバックス筋注（モデルナ）1価 XBB.1.5 等", "Spikevax monovalent (Moderna), 2023-"
    ),
    Vaccine("210", "ASZ", "バキスゼブリア筋注（アストラゼネカ）", "Vaxzevria (AstraZeneca)"),
    Vaccine("211", "NVX", "ヌバキソビッド筋注（ノババックス）", "Nuvaxovid (Novavax)"),
)

_BY_CVX = {v.cvx: v for v in CATALOGUE}


def vaccine(cvx: str) -> Vaccine | None:
    return _BY_CVX.get(cvx)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an entry, tied to its form field."""

    field: str
    message_ja: str
    message_en: str


def check_entry(
    *, occurrence: dt.date, cvx: str, manufacturer: str, lot: str, today: dt.date
) -> list[Problem]:
    """Every problem with a dose entry (empty when it is valid). ``today`` is the local date of the recording."""
    problems: list[Problem] = []
    if occurrence > today:
        problems.append(
            Problem("occurrence", "接種日が未来の日付です。", "The vaccination date is in the future.")
        )
    elif occurrence < COVID_FIRST_DAY:
        problems.append(
            Problem(
                "occurrence",
                "接種日が国内の新型コロナワクチン接種開始日（2021年2月17日）より前です。",
                "The vaccination date is before COVID-19 vaccination began in Japan (2021-02-17).",
            )
        )
    found = vaccine(cvx)
    if found is None:
        problems.append(
            Problem("cvx", "ワクチンの種類を一覧から選んでください。", "Choose a vaccine from the list.")
        )
    elif manufacturer != found.manufacturer:
        problems.append(
            Problem(
                "manufacturer",
                "製造販売業者がワクチンと合いません。",
                "The manufacturer does not match the vaccine.",
            )
        )
    if not lot.strip():
        problems.append(Problem("lot", "ロット番号を入力してください。", "Enter the lot number."))
    elif len(lot.strip()) > LOT_MAX or not lot.strip().isascii() or not lot.strip().isprintable():
        problems.append(
            Problem(
                "lot",
                f"ロット番号は{LOT_MAX}文字以内の半角英数字で入力してください。",
                f"The lot number is at most {LOT_MAX} ASCII letters and digits.",
            )
        )
    return problems

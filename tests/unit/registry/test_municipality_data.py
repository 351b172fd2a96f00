"""Integrity of the packaged local-government code master and the demo town list."""

from __future__ import annotations

import csv
import io
import json
import re
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
ABR_E2E = REPO_ROOT / ".." / "shared" / "data" / "addresses" / "abr-geocoder-e2e"
GEOLONIA_API = REPO_ROOT / ".." / "shared" / "data" / "addresses" / "japanese-addresses-api" / "api" / "ja"

KATAKANA = re.compile(r"[ァ-ヶー]+")


def _read(name: str) -> tuple[list[str], list[dict[str, str]]]:
    text = (files("tsunagu.registry") / "data" / name).read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(text))
    rows = list(reader)
    return list(reader.fieldnames or []), rows


def _check_digit(first_five: str) -> int:
    d = [int(c) for c in first_five]
    return (11 - (6 * d[0] + 5 * d[1] + 4 * d[2] + 3 * d[3] + 2 * d[4]) % 11) % 10


@pytest.fixture(scope="module")
def municipalities() -> list[dict[str, str]]:
    header, rows = _read("municipalities.csv")
    assert header == ["lg_code", "prefecture", "name", "kana"]
    return rows


@pytest.fixture(scope="module")
def demo_towns() -> list[dict[str, str]]:
    header, rows = _read("demo_towns.csv")
    assert header == ["lg_code", "town", "kana"]
    return rows


def test_municipality_master_is_consistent(municipalities: list[dict[str, str]]) -> None:
    codes = [r["lg_code"] for r in municipalities]
    assert len(codes) == len(set(codes)), "duplicate lg_code"
    for row in municipalities:
        code = row["lg_code"]
        assert re.fullmatch(r"\d{6}", code), code
        assert int(code[5]) == _check_digit(code[:5]), f"bad check digit: {code}"
        assert row["prefecture"], code
        assert row["name"], code
        assert KATAKANA.fullmatch(row["kana"]), f"kana not full-width katakana: {code} {row['kana']}"

    prefectures = {r["lg_code"][:2]: r for r in municipalities if r["lg_code"][2:5] == "000"}
    assert sorted(prefectures) == [f"{n:02d}" for n in range(1, 48)]
    for pref in prefectures.values():
        assert pref["name"] == pref["prefecture"]

    for row in municipalities:
        pref = prefectures.get(row["lg_code"][:2])
        assert pref is not None, f"no prefecture row for {row['lg_code']}"
        assert row["prefecture"] == pref["name"], row["lg_code"]

    wards = [r for r in municipalities if r["lg_code"].startswith("131")]
    assert len(wards) == 23
    assert all(r["name"].endswith("区") for r in wards)


def test_demo_towns_belong_to_known_municipality(
    municipalities: list[dict[str, str]], demo_towns: list[dict[str, str]]
) -> None:
    codes = {r["lg_code"] for r in municipalities}
    assert demo_towns
    seen: set[tuple[str, str]] = set()
    for row in demo_towns:
        assert row["lg_code"] in codes, row
        assert row["town"], row
        assert KATAKANA.fullmatch(row["kana"]), row
        key = (row["lg_code"], row["town"])
        assert key not in seen, f"duplicate town {key}"
        seen.add(key)


def _abr_names() -> dict[str, set[str]]:
    names: dict[str, set[str]] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            code = node.get("lg_code")
            if code and (node.get("city") or node.get("pref")):
                city, ward = node.get("city"), node.get("ward")
                name = (ward or city) if city else node["pref"]
                names.setdefault(code, set()).add(name)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in sorted(ABR_E2E.glob("*/expects.json")):
        walk(json.loads(path.read_text(encoding="utf-8")))
    return names


@pytest.mark.skipif(not ABR_E2E.is_dir(), reason=f"abr-geocoder e2e data not available at {ABR_E2E}")
def test_codes_agree_with_abr_geocoder_expectations(municipalities: list[dict[str, str]]) -> None:
    abr = _abr_names()
    assert abr, "no lg_code found in abr-geocoder expectations"
    overlap = [r for r in municipalities if r["lg_code"] in abr]
    assert overlap, "no code in common with abr-geocoder expectations"
    for row in overlap:
        assert abr[row["lg_code"]] == {row["name"]}, (row, abr[row["lg_code"]])


@pytest.mark.skipif(
    not (GEOLONIA_API / "神奈川県" / "藤沢市.json").is_file(),
    reason=f"Geolonia 住所データ not available under {GEOLONIA_API}",
)
def test_demo_towns_exist_in_geolonia_data(
    municipalities: list[dict[str, str]], demo_towns: list[dict[str, str]]
) -> None:
    by_code = {r["lg_code"]: r for r in municipalities}
    for code in {r["lg_code"] for r in demo_towns}:
        muni = by_code[code]
        data = json.loads((GEOLONIA_API / muni["prefecture"] / f"{muni['name']}.json").read_text("utf-8"))
        known = {entry["town"] for entry in data}
        missing = [r["town"] for r in demo_towns if r["lg_code"] == code and r["town"] not in known]
        assert not missing, missing

"""`tsunagu linkage ...`: agencies, the legal-basis table and checking a request, as a script would use them."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner

from tsunagu.cli import build


def _run(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(build(), ["linkage", *args])
    assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
    return result.stdout


def _json(*args: str, code: int = 0) -> dict[str, Any]:
    data = json.loads(_run(*args, "--json", code=code))
    assert isinstance(data, dict)
    return data


def test_agencies_lists_the_seeded_organisations_with_their_items() -> None:
    agencies = {a["code"]: a for a in _json("agencies")["agencies"]}
    assert agencies["LG-142051"]["name_ja"] == "藤沢市"
    assert "pension.status" in agencies["JPS"]["items"]
    assert "public_fund_account.account" in agencies["DA-KOKIN"]["items"]
    assert "日本年金機構" in _run("agencies")


def test_table_shows_the_version_and_rows() -> None:
    table = _json("table")
    assert table["version"] == "2026.4"
    assert table["effective"] == "2024-06-01"
    assert len(table["digest"]) == 64
    child = [r for r in table["rows"] if r["business"] == "CHILD-ALLOWANCE-01"]
    assert {r["provider_type"] for r in child} >= {"municipal_tax", "pension", "public_fund_registry"}
    text = _run("table")
    assert text.startswith("legal-basis table 2026.4")
    assert "[unverified]" in text


def _check(*args: str, code: int) -> dict[str, Any]:
    return _json(
        "check", "--requester-type", "municipality", "--business", "CHILD-ALLOWANCE-01", *args, code=code
    )


def test_check_permits_a_listed_request_by_type_or_by_agency_code() -> None:
    allowed = _check("--provider", "municipal_tax", "--item", "local_tax.income", code=0)
    assert allowed["allowed"] is True
    assert allowed["statutes"] == ["児童手当法（昭和46年法律第73号）第5条"]
    by_code = _check("--provider", "DA-KOKIN", "--item", "public_fund_account.bank", code=0)
    assert by_code["allowed"] is True


def test_check_refuses_and_names_what_is_missing() -> None:
    items = _check(
        "--provider", "JPS", "--item", "pension.insured_status", "--item", "pension.status", code=2
    )
    assert (items["allowed"], items["refusal"], items["missing"]) == (
        False,
        "items-not-covered",
        ["pension.status"],
    )
    provider = _check("--provider", "VRS", "--item", "vaccination.records", code=2)
    assert provider["refusal"] == "provider-not-permitted"
    assert provider["missing"] == ["vaccination_registry"]
    assert "pension" in provider["permitted"]
    result = CliRunner().invoke(
        build(),
        [
            "linkage",
            "check",
            "--requester-type",
            "pension",
            "--business",
            "NOPE",
            "--provider",
            "JPS",
            "--item",
            "x.y",
        ],
    )
    assert result.exit_code == 2
    assert "refused (unknown-business)" in result.stdout
    assert "NOPE" in result.stdout

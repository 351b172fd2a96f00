"""``tsunagu linkage load`` (an agency's copy from its export, My Numbers turned into the agency's codes at the
edge, all or nothing) and ``tsunagu linkage log`` (the hub's record and an agency's own log)."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tsunagu.cli import build
from tsunagu.db.engine import make_engine, make_session_factory, unit_of_work
from tsunagu.kernel.clock import Clock
from tsunagu.kernel.identifiers import my_number_from_serial
from tsunagu.linkage import api as linkage
from tsunagu.linkage.exchange.models import Copy
from tsunagu.pki import api as pki
from tsunagu.registry import api as registry
from tsunagu.settings import load_settings

SECRET = base64.b64encode(bytes(range(32))).decode()
NUMBERS = [my_number_from_serial(n) for n in (420_001, 420_002)]
UNKNOWN = my_number_from_serial(420_999)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TSUNAGU_SECRET_KEY", SECRET)
    monkeypatch.delenv("TSUNAGU_DATABASE_URL", raising=False)
    data = tmp_path / "data"
    assert run(data, "db", "upgrade")[0] == 0
    settings = load_settings(data_dir=data)
    engine = make_engine(settings)
    with unit_of_work(make_session_factory(engine)) as db:
        ctx = registry.registry_context(settings, Clock())
        for n, number in enumerate(NUMBERS):
            registry.start_record(
                db,
                ctx,
                registry.EventKind.MOVE_IN,
                registry.NewPerson(
                    "高橋", f"一郎{n}", "タカハシ", "イチロウ", dt.date(1970, 1, 1), registry.Sex.MALE, number
                ),
                registry.NewAddress("本町", f"{n + 1}番4号", ""),
                registry.Placement(),
                dt.date(2020, 4, 1),
                registry.Filing("test-clerk"),
                from_lg_code="131016",
            )
        linkage.provision_all(db, pki.trust_services(settings, Clock()), linkage.linkage_keys(settings))
    engine.dispose()
    return data


def run(data_dir: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(build(), [*args, "--data-dir", str(data_dir)])
    return result.exit_code, result.stdout, result.stderr


def test_load_stores_only_codes_and_is_all_or_nothing_and_idempotent(data_dir: Path, tmp_path: Path) -> None:
    good = tmp_path / "tax.csv"
    good.write_text(
        "my_number,item,value,withhold\n"
        f"{NUMBERS[0]},local_tax.income,3200000,\n"
        f'{NUMBERS[0]},local_tax.deductions,"{{""basic"": 430000}}",\n'
        f"{NUMBERS[1]},local_tax.income,2100000,yes\n",
        encoding="utf-8",
    )
    code, out, err = run(data_dir, "linkage", "load", "LG-142051-TAX", str(good), "--json")
    assert code == 0, err
    report = json.loads(out)
    assert (report["rows"], report["persons"], report["withheld"]) == (3, 2, 1)
    assert NUMBERS[0] not in out + err

    bad = tmp_path / "bad.csv"
    bad.write_text(
        "my_number,item,value\n"
        f"{NUMBERS[0]},local_tax.income,9999999\n"
        f'{NUMBERS[1]},pension.status,"1"\n'  # not a tax item
        f"{UNKNOWN},local_tax.income,1\n",
        encoding="utf-8",
    )
    code, out, _ = run(data_dir, "linkage", "load", "LG-142051-TAX", str(bad), "--json")
    assert code != 0
    problem = json.loads(out)
    assert "line 3" in problem["message"]
    assert UNKNOWN not in out
    unknown_only = tmp_path / "unknown.csv"
    unknown_only.write_text(f"my_number,item,value\n{UNKNOWN},local_tax.income,1\n", encoding="utf-8")
    code, out, _ = run(data_dir, "linkage", "load", "LG-142051-TAX", str(unknown_only), "--json")
    assert code != 0
    assert "line(s) 2" in json.loads(out)["message"]
    assert UNKNOWN not in out

    assert run(data_dir, "linkage", "load", "LG-142051-TAX", str(good), "--json")[0] == 0  # again: no change
    engine = make_engine(load_settings(data_dir=data_dir))
    with unit_of_work(make_session_factory(engine)) as db:
        copies = db.scalars(select(Copy).order_by(Copy.id)).all()
    engine.dispose()
    assert len(copies) == 3
    assert {c.value for c in copies} == {"3200000", '{"basic":430000}', "2100000"}  # 9999999 was not loaded
    assert [c.disclose for c in copies] == [True, True, False]
    assert all(n not in c.code for c in copies for n in NUMBERS)


def test_log_shows_the_hub_record_and_each_agencys_own_log(data_dir: Path, tmp_path: Path) -> None:
    csv_file = tmp_path / "tax.csv"
    csv_file.write_text(f"my_number,item,value\n{NUMBERS[0]},local_tax.income,3200000\n", encoding="utf-8")
    assert run(data_dir, "linkage", "load", "LG-142051-TAX", str(csv_file))[0] == 0
    settings = load_settings(data_dir=data_dir)
    engine = make_engine(settings)
    factory = make_session_factory(engine)
    keys = linkage.linkage_keys(settings)
    platform = linkage.build_exchange(factory, pki.trust_services(settings, Clock()), keys)
    with unit_of_work(factory) as db:
        (person,) = registry.person_ids_by_my_number(
            db, registry.registry_context(settings, Clock()).keys, [NUMBERS[0]]
        ).values()
        city = linkage.code_for(db, keys, "LG-142051", person)
    result = linkage.ask(
        platform.uow,
        platform.ring,
        platform.local_hub(),
        linkage.new_request("LG-142051", "LG-142051-TAX", "CHILD-ALLOWANCE-01", ("local_tax.income",), city),
    )
    engine.dispose()
    assert result.items["local_tax.income"].value == 3_200_000
    hub = json.loads(run(data_dir, "linkage", "log", "--json")[1])
    assert hub["total"] == 1
    assert hub["exchanges"][0]["exchange_id"] == result.exchange_id
    requester = json.loads(run(data_dir, "linkage", "log", "--agency", "LG-142051", "--json")[1])
    provider = json.loads(run(data_dir, "linkage", "log", "--agency", "LG-142051-TAX", "--json")[1])
    assert requester["exchanges"][0]["role"] == "requester"
    assert provider["exchanges"][0]["role"] == "provider"
    assert requester["exchanges"][0]["code"] != provider["exchanges"][0]["code"]
    code, out, _ = run(data_dir, "linkage", "log")
    assert code == 0
    assert "LG-142051 → LG-142051-TAX" in out
    assert run(data_dir, "linkage", "log", "--agency", "NOPE", "--json")[0] != 0

"""The zengin-code bank and branch master: the source-data layout, lazy branches, the version, the default copy."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from tsunagu.payments import master as zmaster

SOURCE = Path(__file__).resolve().parents[4] / "shared" / "data" / "zengin" / "zengin-code-source-data"
needs_source = pytest.mark.skipif(
    not (SOURCE / "banks.json").is_file(), reason="../shared/data/zengin/zengin-code-source-data is not here"
)


def _tiny(tmp_path: Path) -> Path:
    (tmp_path / "branches").mkdir()
    banks = {"0001": {"code": "0001", "name": "みずほ", "kana": "ミズホ", "hira": "みずほ", "roma": "mizuho"}}
    branches = {"001": {"code": "001", "name": "東京営業部", "kana": "トウキヨウ", "hira": "", "roma": ""}}
    (tmp_path / "banks.json").write_text(json.dumps(banks, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "branches" / "0001.json").write_text(
        json.dumps(branches, ensure_ascii=False), encoding="utf-8"
    )
    (tmp_path / "updated_at").write_text("202611261387\n", encoding="utf-8")
    return tmp_path


def test_banks_branches_and_version(tmp_path: Path) -> None:
    m = zmaster.load(_tiny(tmp_path))
    assert m.version == "202611261387"
    bank = m.bank("0001")
    assert bank is not None
    assert (bank.name, bank.kana) == ("みずほ", "ミズホ")
    branch = m.branch("0001", "001")
    assert branch is not None
    assert (branch.bank_code, branch.name) == ("0001", "東京営業部")
    assert m.has("0001", "001")
    assert not m.has("0001", "002")
    assert not m.has("0002", "001")


@pytest.mark.parametrize("code", ["1", "00001", "abcd", "../x", "000１"])
def test_malformed_codes_are_unknown(tmp_path: Path, code: str) -> None:
    m = zmaster.load(_tiny(tmp_path))
    assert m.bank(code) is None
    assert m.branch("0001", code) is None
    assert m.branches(code) == {}


def test_branches_are_read_once_per_bank(tmp_path: Path) -> None:
    m = zmaster.load(_tiny(tmp_path))
    first = m.branches("0001")
    (tmp_path / "branches" / "0001.json").unlink()  # a second read would now find nothing
    assert m.branches("0001") is first
    assert m.has("0001", "001")


def test_a_bank_without_a_branch_file_has_no_branches(tmp_path: Path) -> None:
    directory = _tiny(tmp_path)
    (directory / "branches" / "0001.json").unlink()
    assert zmaster.load(directory).branches("0001") == {}


def test_a_directory_without_banks_is_refused(tmp_path: Path) -> None:
    with pytest.raises(zmaster.MasterMissing):
        zmaster.load(tmp_path)


@needs_source
def test_the_source_data_layout(tmp_path: Path) -> None:
    m = zmaster.load(SOURCE)
    assert len(m.banks) > 1000
    assert m.version == (SOURCE / "updated_at").read_text(encoding="utf-8").strip()
    mizuho = m.bank("0001")
    assert mizuho is not None
    assert mizuho.name == "みずほ"
    assert m.has("0001", "001")
    yucho = m.bank("9900")
    assert yucho is not None
    assert yucho.kana == "ユウチヨ"
    copy = tmp_path / "m"
    shutil.copytree(SOURCE, copy)
    (copy / "branches" / "0001.json").write_text("{}", encoding="utf-8")
    assert not zmaster.load(copy).has("0001", "001")


def test_the_default_master_is_the_installed_package_without_importing_it() -> None:
    directory = zmaster.default_directory()
    assert directory is not None, "the zengin-code package is a dependency"
    assert (directory / "banks.json").is_file()
    assert "zengin_code" not in sys.modules
    m = zmaster.load()
    assert m.directory == directory
    assert m.bank("0001") is not None

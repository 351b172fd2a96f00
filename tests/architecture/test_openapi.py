"""The committed OpenAPI document (docs/openapi.json) is the one the application serves."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest
from fastapi import FastAPI

REGENERATE = (
    "docs/openapi.json is out of date: run `.venv/bin/python scripts/export_openapi.py` and commit it."
)


@pytest.fixture(scope="module")
def export_script(repo_root: Path) -> ModuleType:
    path = repo_root / "scripts" / "export_openapi.py"
    spec = importlib.util.spec_from_file_location("export_openapi", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def committed(repo_root: Path) -> str:
    path = repo_root / "docs" / "openapi.json"
    assert path.exists(), REGENERATE
    return path.read_text(encoding="utf-8")


def test_committed_openapi_equals_the_app(arch_app: FastAPI, committed: str) -> None:
    live = json.loads(json.dumps(arch_app.openapi()))  # as the app serves it (tuples become lists)
    assert json.loads(committed) == live, REGENERATE


def test_committed_openapi_is_in_the_canonical_format(
    arch_app: FastAPI, committed: str, export_script: ModuleType
) -> None:
    assert committed == export_script.render(arch_app.openapi()), REGENERATE


def test_export_is_deterministic(export_script: ModuleType) -> None:
    first = export_script.render(export_script.openapi_document())
    second = export_script.render(export_script.openapi_document())
    assert first == second
    assert first.endswith("}\n")


def test_the_document_covers_the_json_api(committed: str) -> None:
    doc = json.loads(committed)
    assert doc["info"]["title"] == "tsunagu"
    paths = doc["paths"]
    assert {
        "/api/v1/residents",
        "/api/v1/residents/{person_id}",
        "/api/v1/residents/{person_id}/events",
        "/api/v1/registry/stats",
        "/api/v1/municipalities/{lg_code}",
        "/healthz",
    } <= set(paths)
    assert not [p for p in paths if p.startswith("/staff")], "HTML pages are not part of the API document"

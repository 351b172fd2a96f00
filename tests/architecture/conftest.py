"""Fixtures of the architecture tests: the application as built by the factory (no database is touched)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from tsunagu.app import create_app
from tsunagu.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def arch_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("tsunagu-arch"),
        database_url=None,
        secret_key=base64.b64encode(bytes(32)).decode(),
        environment="test",
        municipality_code="142051",
    )
    app = create_app(settings)
    yield app
    app.state.ctx.engine.dispose()

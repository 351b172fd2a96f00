"""The procedures domain's data files, read once from the installed package and parsed by ``core``."""

from __future__ import annotations

import functools
from importlib import resources

from tsunagu.procedures.core.catalogue import Catalogue, build_catalogue
from tsunagu.procedures.core.lifeevents import LifeEvent, parse_life_events


def _data() -> resources.abc.Traversable:
    return resources.files("tsunagu.procedures") / "data"


@functools.cache
def catalogue() -> Catalogue:
    folder = _data() / "procedures"
    files = sorted(
        (f.name, f.read_text(encoding="utf-8")) for f in folder.iterdir() if f.name.endswith(".toml")
    )
    return build_catalogue((f"procedures/{name}", text) for name, text in files)


@functools.cache
def life_events() -> dict[str, LifeEvent]:
    return parse_life_events(
        (_data() / "life_events.toml").read_text(encoding="utf-8"), "life_events.toml", catalogue()
    )

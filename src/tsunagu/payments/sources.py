"""The payments domain's data files, read once from the installed package and parsed by ``core``."""

from __future__ import annotations

import functools
from importlib import resources

from tsunagu.kernel.errors import NotFound
from tsunagu.payments.core.programmes import Programme, build_programmes


class UnknownProgramme(NotFound):
    """No programme with that id in ``data/programmes``."""

    code = "programme-not-found"
    title = "No such benefit programme"


@functools.cache
def programmes() -> dict[str, Programme]:
    folder = resources.files("tsunagu.payments") / "data" / "programmes"
    files = sorted(
        (f.name, f.read_text(encoding="utf-8")) for f in folder.iterdir() if f.name.endswith(".toml")
    )
    return build_programmes((f"programmes/{name}", text) for name, text in files)


def programme(programme_id: str) -> Programme:
    found = programmes().get(programme_id)
    if found is None:
        raise UnknownProgramme(
            f"No benefit programme {programme_id!r}; known: {', '.join(programmes())}.",
            ja=f"給付 {programme_id!r} はありません。",
        )
    return found

"""Regenerate the committed OpenAPI document ``docs/openapi.json`` from the application.

    .venv/bin/python scripts/export_openapi.py           # rewrite docs/openapi.json
    .venv/bin/python scripts/export_openapi.py --check   # exit 1 if the committed file is out of date

The output is deterministic (sorted keys, two-space indent, UTF-8 kept as is, one trailing newline) and
independent of the environment: the app is built on a throw-away data directory with fixed settings, and no
database is touched.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "docs" / "openapi.json"


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document exactly as the running application serves it."""
    from tsunagu.app import create_app  # noqa: PLC0415 - import lazily: --help should not load the app
    from tsunagu.settings import Settings  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="tsunagu-openapi-") as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            database_url=None,
            secret_key=base64.b64encode(bytes(32)).decode(),
            environment="test",
            municipality_code="142051",
        )
        app = create_app(settings)
        try:
            document: dict[str, Any] = app.openapi()
        finally:
            app.state.ctx.engine.dispose()
    return document


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that the committed file is current")
    parser.add_argument("--output", type=Path, default=TARGET, help=f"where to write (default {TARGET})")
    args = parser.parse_args(argv)
    text = render(openapi_document())
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            sys.stderr.write(f"{args.output} is out of date: run scripts/export_openapi.py\n")
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    sys.stdout.write(f"wrote {args.output}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``tsunagu laws`` commands: placeholder, filled in by issue 8's work."""

from __future__ import annotations

import typer


def add_fetch_commands(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""

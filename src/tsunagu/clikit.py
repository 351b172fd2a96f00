"""Helpers shared by every domain's CLI: settings from options, JSON or human output, clear failures."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from tsunagu.kernel.access import Permission, Principal
from tsunagu.kernel.errors import DomainError
from tsunagu.settings import Settings, load_settings

DATA_DIR_HELP = "Data directory (default: $TSUNAGU_DATA_DIR or ./tsunagu-data)."
err = Console(stderr=True)


def settings_for(data_dir: Path | None, **overrides: Any) -> Settings:
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    return load_settings(**overrides)


def emit(as_json: bool, data: dict[str, Any], human: str) -> None:
    if as_json:
        sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str, indent=2) + "\n")
    else:
        sys.stdout.write(human.rstrip("\n") + "\n")


def fail(message: str, code: int = 1, *, as_json: bool = False, error_code: str = "error") -> NoReturn:
    if as_json:
        sys.stdout.write(
            json.dumps({"ok": False, "error": error_code, "message": message}, ensure_ascii=False) + "\n"
        )
    else:
        err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


@contextmanager
def domain_errors(as_json: bool = False) -> Iterator[None]:
    """Turn a domain error into a one-line message and a non-zero exit; nothing has been written."""
    try:
        yield
    except DomainError as exc:
        fail(f"{exc.detail} (nothing was written)", as_json=as_json, error_code=exc.code)


def operator(*permissions: Permission) -> Principal:
    """The person at the terminal. The CLI runs with the operator's authority over the data directory."""
    user = getpass.getuser()
    return Principal(0, f"cli:{user}", f"CLI ({user})", frozenset(permissions))


@contextmanager
def progress(label: str, total: int | None, *, enabled: bool = True) -> Iterator[Any]:
    """A progress bar on stderr (hidden with --json so stdout stays machine-readable)."""
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=not enabled,
        transient=False,
    )
    with bar:
        task = bar.add_task(label, total=total)
        yield lambda n=1: bar.advance(task, n)

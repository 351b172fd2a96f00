"""The workflow form of a review item (``/staff/laws/items/{id}``): its fields as the page shows them, reading them
back into a change, and which fields a refusal of the workflow is about (so the page can mark them)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from starlette.requests import Request

from tsunagu.laws import api

Errors = list[tuple[str, str]]


def message(lang: str, ja: str, en: str) -> str:
    return en if lang == "en" else ja


FORM_FIELDS = ("expected_version", "status", "phase", "ministry", "deadline", "notes", "note")
REASON_FIELDS = {
    "bad-transition": ("status",),
    "decide-first": ("status",),
    "unknown-status": ("status",),
    "bad-phase": ("phase",),
    "ministry-too-long": ("ministry",),
    "notes-too-long": ("notes",),
    "note-too-long": ("note",),
    "reopen-needs-note": ("note",),
}


def refused_fields(reason: str, values: dict[str, str]) -> tuple[str, ...]:
    if reason == "decision-incomplete":
        return tuple(f for f in ("phase", "ministry", "deadline") if not values.get(f))
    return REASON_FIELDS.get(reason, ())


@dataclass(frozen=True)
class Change:
    expected_version: int
    status: str
    phase: int | None
    ministry: str | None
    deadline: dt.date | None
    notes: str
    note: str


def parse_change(values: dict[str, str], lang: str) -> tuple[Change | None, Errors]:
    """The form as a change, or the fields that cannot be read (told on their field)."""
    errors: Errors = []
    phase: int | None = None
    if values.get("phase"):
        if values["phase"] in {str(p) for p in api.PHASES}:
            phase = int(values["phase"])
        else:
            errors.append(("phase", message(lang, "フェーズを選んでください。", "Choose a phase.")))
    deadline: dt.date | None = None
    if values.get("deadline"):
        try:
            deadline = dt.date.fromisoformat(values["deadline"])
        except ValueError:
            errors.append(
                (
                    "deadline",
                    message(
                        lang,
                        "期限を日付で入力してください（例: 2026-03-31）。",
                        "Enter a date (e.g. 2026-03-31).",
                    ),
                )
            )
    version = values.get("expected_version", "")
    if not version.isdigit() or len(version) > 9:
        errors.append(("status", message(lang, "フォームを開き直してください。", "Reload the form.")))
    if errors:
        return None, errors
    return Change(
        int(version),
        values.get("status", ""),
        phase,
        values.get("ministry") or None,
        deadline,
        values.get("notes", ""),
        values.get("note", ""),
    ), []


async def form_values(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: str(form.get(k, "")).strip() for k in FORM_FIELDS}


def item_values(item: api.ItemDetail) -> dict[str, str]:
    return {
        "expected_version": str(item.version),
        "status": item.status,
        "phase": str(item.phase or ""),
        "ministry": item.ministry or "",
        "deadline": item.deadline.isoformat() if item.deadline else "",
        "notes": item.notes,
        "note": "",
    }

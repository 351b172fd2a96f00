"""Service figures per procedure: how many were submitted, how many online, how much the government filled in,
how long people took to submit and offices to complete.

- *online rate*: channel ``online`` or ``one_stop`` over every application that left the draft state;
- *prefill ratio*: the mean, over submitted applications, of pre-filled fields / the procedure's fields;
- *time to submit*: ``submitted_at - started_at``; *time to complete*: ``completed_at - submitted_at``
  (median and 90th percentile, in seconds).

The rows are streamed (``yield_per``), never loaded at once. The durations behind the percentiles are kept in a
uniform reservoir of at most :data:`RESERVOIR` values per procedure (exact below that; a fixed seed keeps the
figures reproducible), so memory stays bounded however many applications there are. Read-only: the caller's
unit of work is not written to. Nothing personal is read (no person id, no value)."""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tsunagu.procedures.core.catalogue import State
from tsunagu.procedures.models import Application
from tsunagu.procedures.sources import catalogue

RESERVOIR = 10_000
ONLINE_CHANNELS = frozenset({"online", "one_stop"})
BATCH = 1_000


class _Reservoir:
    """A uniform sample of at most ``size`` values (Vitter's algorithm R)."""

    def __init__(self, size: int, rng: random.Random) -> None:
        self.size = size
        self.rng = rng
        self.seen = 0
        self.values: list[float] = []

    def add(self, value: float) -> None:
        self.seen += 1
        if len(self.values) < self.size:
            self.values.append(value)
            return
        j = self.rng.randrange(self.seen)
        if j < self.size:
            self.values[j] = value

    def quantile(self, q: float) -> float | None:
        """Nearest-rank quantile (``q`` in (0, 1]); ``None`` without values."""
        if not self.values:
            return None
        ordered = sorted(self.values)
        rank = max(1, math.ceil(q * len(ordered)))
        return ordered[rank - 1]


@dataclass(frozen=True)
class Durations:
    """Median and 90th percentile, in seconds (``None`` when there is nothing to measure)."""

    count: int
    median: float | None
    p90: float | None

    def as_dict(self) -> dict[str, Any]:
        return {"count": self.count, "median_seconds": self.median, "p90_seconds": self.p90}


@dataclass(frozen=True)
class ProcedureMetrics:
    procedure_id: str
    name_ja: str
    name_en: str
    applications: int  # every application that left the draft state
    submitted: int  # applications with a submission time (受付)
    online: int  # of ``applications``: filed online or through a one-stop
    completed: int
    prefill_ratio: float | None  # 0..1, mean over submitted applications
    time_to_submit: Durations
    time_to_complete: Durations

    @property
    def online_rate(self) -> float | None:
        return self.online / self.applications if self.applications else None

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_ja

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready figures (rates as fractions 0..1, durations in seconds)."""
        return {
            "procedure": self.procedure_id,
            "name_ja": self.name_ja,
            "name_en": self.name_en,
            "applications": self.applications,
            "submitted": self.submitted,
            "online": self.online,
            "online_rate": self.online_rate,
            "completed": self.completed,
            "prefill_ratio": self.prefill_ratio,
            "time_to_submit": self.time_to_submit.as_dict(),
            "time_to_complete": self.time_to_complete.as_dict(),
        }


@dataclass
class _Tally:
    fields: int
    rng: random.Random
    applications: int = 0
    submitted: int = 0
    online: int = 0
    completed: int = 0
    prefill_sum: float = 0.0
    to_submit: _Reservoir = field(init=False)
    to_complete: _Reservoir = field(init=False)

    def __post_init__(self) -> None:
        self.to_submit = _Reservoir(RESERVOIR, self.rng)
        self.to_complete = _Reservoir(RESERVOIR, self.rng)

    def add(
        self,
        channel: str,
        state: str,
        prefilled: list[str] | None,
        started: dt.datetime,
        submitted: dt.datetime | None,
        completed: dt.datetime | None,
    ) -> None:
        self.applications += 1
        self.online += channel in ONLINE_CHANNELS
        self.completed += state == State.COMPLETED.value
        if submitted is None:
            return
        self.submitted += 1
        if self.fields:
            self.prefill_sum += min(len(prefilled or []), self.fields) / self.fields
        self.to_submit.add(max((submitted - started).total_seconds(), 0.0))
        if completed is not None:
            self.to_complete.add(max((completed - submitted).total_seconds(), 0.0))


def _durations(r: _Reservoir) -> Durations:
    return Durations(r.seen, r.quantile(0.5), r.quantile(0.9))


def metrics(db: Session, *, seed: int = 0) -> list[ProcedureMetrics]:
    """The figures of every procedure in the catalogue (those without applications show zeros), in catalogue
    order."""
    procedures = list(catalogue().procedures.values())
    rng = random.Random(seed)  # noqa: S311 - sampling for statistics, not security
    tallies = {p.id: _Tally(len(p.fields), rng) for p in procedures}
    stmt = (
        select(
            Application.procedure_id,
            Application.channel,
            Application.state,
            Application.prefilled,
            Application.started_at,
            Application.submitted_at,
            Application.completed_at,
        )
        .where(Application.state != State.DRAFT.value)
        .order_by(Application.id)
        .execution_options(yield_per=BATCH)
    )
    for pid, channel, state, prefilled, started, submitted, completed in db.execute(stmt):
        tally = tallies.get(pid)
        if tally is None:  # a procedure since removed from the catalogue
            continue
        tally.add(channel, state, prefilled, started, submitted, completed)
    return [_figures(p.id, p.name_ja, p.name_en, tallies[p.id]) for p in procedures]


def _figures(pid: str, name_ja: str, name_en: str, t: _Tally) -> ProcedureMetrics:
    return ProcedureMetrics(
        procedure_id=pid,
        name_ja=name_ja,
        name_en=name_en,
        applications=t.applications,
        submitted=t.submitted,
        online=t.online,
        completed=t.completed,
        prefill_ratio=t.prefill_sum / t.submitted if t.submitted and t.fields else None,
        time_to_submit=_durations(t.to_submit),
        time_to_complete=_durations(t.to_complete),
    )

"""The review workflow's rules (見直しの進め方), pure: statuses, phases, which status may follow which, and the
values a decided item must carry. Also the Japanese name of a provision address (``main/a4_2/p1/i3`` →
第四条の二第一項第三号).

Statuses: ``todo`` 未着手 → ``decided`` 見直し方針決定 → ``done`` 見直し済. ``decided`` may go back to ``todo``
(reconsidered) and ``done`` back to ``decided`` with a note (reopened); nothing else. A decided or done item always
has its phase, ministry and deadline.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

STATUSES = ("todo", "decided", "done")
STATUS_JA = {"todo": "未着手", "decided": "見直し方針決定", "done": "見直し済"}
STATUS_EN = {"todo": "Not started", "decided": "Policy decided", "done": "Reviewed"}
PHASES = (1, 2, 3)
PHASE_JA = {1: "フェーズ1 デジタル完結の補助", 2: "フェーズ2 一部自動化", 3: "フェーズ3 完全自動化"}
PHASE_EN = {1: "Phase 1: digital assistance", 2: "Phase 2: partly automated", 3: "Phase 3: fully automated"}
ABSENT_JA = "改正で該当なし"
ABSENT_EN = "No longer found after amendment"
MINISTRY_MAX = 100
NOTES_MAX = 2000
NOTE_MAX = 2000
NEXT = {"todo": ("decided",), "decided": ("todo", "done"), "done": ("decided",)}


@dataclass(frozen=True)
class Refusal:
    """Why a change is refused: a stable ``code`` and the reason in Japanese and English."""

    code: str
    message_ja: str
    message_en: str


@dataclass(frozen=True)
class ItemState:
    """The reviewed fields of an item, before or after a change."""

    status: str
    phase: int | None
    ministry: str | None
    deadline: dt.date | None
    notes: str


def next_statuses(status: str) -> tuple[str, ...]:
    """The statuses an item in ``status`` may move to."""
    return NEXT.get(status, ())


def _value_refusal(after: ItemState, note: str) -> Refusal | None:
    if after.status not in STATUSES:
        return Refusal(
            "unknown-status",
            f"状態「{after.status}」はありません（未着手・見直し方針決定・見直し済のいずれか）。",
            f"Unknown status {after.status!r}: use todo, decided or done.",
        )
    if after.phase is not None and after.phase not in PHASES:
        return Refusal(
            "bad-phase",
            "フェーズは 1・2・3 のいずれかです。",
            "The phase is 1, 2 or 3.",
        )
    if after.ministry is not None and len(after.ministry) > MINISTRY_MAX:
        return Refusal(
            "ministry-too-long",
            f"所管府省は{MINISTRY_MAX}文字以内で入力してください。",
            f"The ministry is at most {MINISTRY_MAX} characters.",
        )
    if len(after.notes) > NOTES_MAX:
        return Refusal(
            "notes-too-long",
            f"備考は{NOTES_MAX}文字以内で入力してください。",
            f"The notes are at most {NOTES_MAX} characters.",
        )
    if len(note) > NOTE_MAX:
        return Refusal(
            "note-too-long",
            f"履歴のメモは{NOTE_MAX}文字以内で入力してください。",
            f"The history note is at most {NOTE_MAX} characters.",
        )
    return None


def _transition_refusal(before: ItemState, after: ItemState, note: str) -> Refusal | None:
    if after.status == before.status:
        return None
    if after.status not in next_statuses(before.status):
        if before.status == "todo" and after.status == "done":
            return Refusal(
                "decide-first",
                "未着手から見直し済へは進めません。先に見直し方針を決定してください。",
                "A not-started item cannot be marked reviewed: decide its policy first.",
            )
        return Refusal(
            "bad-transition",
            f"{STATUS_JA[before.status]}から{STATUS_JA[after.status]}へは変更できません。",
            f"An item cannot move from {STATUS_EN[before.status]} to {STATUS_EN[after.status]}.",
        )
    if before.status == "done" and not note.strip():
        return Refusal(
            "reopen-needs-note",
            "見直し済の項目を差し戻すには、理由をメモに書いてください。",
            "Reopening a reviewed item needs a note saying why.",
        )
    return None


def _decided_refusal(after: ItemState) -> Refusal | None:
    if after.status == "todo":
        return None
    missing_ja = [
        name
        for name, value in (("フェーズ", after.phase), ("所管府省", after.ministry), ("期限", after.deadline))
        if value is None or value == ""
    ]
    if not missing_ja:
        return None
    missing_en = [
        name
        for name, value in (
            ("phase", after.phase),
            ("ministry", after.ministry),
            ("deadline", after.deadline),
        )
        if value is None or value == ""
    ]
    return Refusal(
        "decision-incomplete",
        f"見直し方針を決定するには{'・'.join(missing_ja)}を入力してください。",
        f"A decided policy needs its {', '.join(missing_en)}.",
    )


def check_change(before: ItemState, after: ItemState, note: str = "") -> Refusal | None:
    """Why ``before`` may not become ``after`` (None when it may). Values are checked first, then the move
    between statuses, then that a decided or done item keeps its phase, ministry and deadline."""
    return _value_refusal(after, note) or _transition_refusal(before, after, note) or _decided_refusal(after)


# --- provision addresses in Japanese ---------------------------------------------------------------------------

_DIGITS = "〇一二三四五六七八九"
_IROHA = "イロハニホヘトチリヌルヲワカヨタレソツネナラムウヰノオクヤマケフコエテアサキユメミシヱヒモセス"
_SEGMENT = re.compile(r"^(?P<kind>a|p|i|si(?P<level>\d+)-)(?P<num>[0-9_:]+)$")


def kanji_number(n: int) -> str:
    """An article number in kanji as laws write it: 4 → 四, 10 → 十, 24 → 二十四, 1305 → 千三百五."""
    if n <= 0:
        return _DIGITS[0] if n == 0 else str(n)
    if n >= 10_000:  # 万
        high, rest = divmod(n, 10_000)
        return kanji_number(high) + "万" + (kanji_number(rest) if rest else "")
    out = []
    for unit, name in ((1000, "千"), (100, "百"), (10, "十")):
        digit, n = divmod(n, unit)
        if digit:
            out.append(("" if digit == 1 else _DIGITS[digit]) + name)
    if n:
        out.append(_DIGITS[n])
    return "".join(out)


def _branch(number: str, render: str) -> str:
    """``4_2`` → 第四条の二 (render holds ``{}`` for the main number)."""
    head, *branches = number.split("_")
    return render.format(kanji_number(int(head))) + "".join(f"の{kanji_number(int(b))}" for b in branches)


def _span(number: str, render: str) -> str:
    if ":" in number:
        first, last = number.split(":", 1)
        return f"{_branch(first, render)}から{_branch(last, render)}まで"
    return _branch(number, render)


def _subitem(level: int, number: str) -> str:
    head, *branches = number.split("_")
    n = int(head)
    if level == 1:
        base = _IROHA[n - 1] if 0 < n <= len(_IROHA) else f"（{n}）"
    elif level == 2:  # the second level of 号の細分 is (1), (2), …
        base = f"（{n}）"
    else:
        base = f"（{'ⅰⅱⅲⅳⅴⅵⅶⅷⅸⅹ'[n - 1] if 0 < n <= 10 else n}）"
    return base + "".join(f"の{kanji_number(int(b))}" for b in branches)


def article_label(address: str) -> str:
    """The provision as a reader names it: ``main/a4_2/p1/i3`` → 第四条の二第一項第三号;
    ``suppl[平成一一年…法律第一五一号]/a3/p1`` → 附則（平成一一年…法律第一五一号）第三条第一項; ``suppl[orig]/p2`` →
    附則第二項; sub-items as イ, （1）, （ⅰ). An address it cannot read is returned as it is."""
    part, *segments = address.split("/")
    if part == "main":
        out = ""
    elif part.startswith("suppl[") and part.endswith("]"):
        amend = part[len("suppl[") : -1]
        out = "附則" if amend == "orig" else f"附則（{amend}）"
    else:
        return address
    for segment in segments:
        match = _SEGMENT.match(segment)
        if match is None:
            return address
        kind, number = match["kind"], match["num"]
        try:
            if kind == "a":
                out += _span(number, "第{}条")
            elif kind == "p":
                out += _span(number, "第{}項")
            elif kind == "i":
                out += _span(number, "第{}号")
            else:
                out += _subitem(int(match["level"]), number.split(":")[0])
        except ValueError:
            return address
    return out or address

"""Public interface of the laws domain (the only module other packages may import): the law model, the streaming
law XML parser, the diff between two versions of a law, and the law-review database: importing law XML
(:func:`import_files`, :func:`import_bytes`; :func:`redetect` after the rules changed), the review items and
their workflow (:func:`list_items`, :func:`get_item`, :func:`update_item`, :func:`counts`, :func:`laws`) and
reports (:func:`report`).

Statuses ``todo`` 未着手 → ``decided`` 見直し方針決定 → ``done`` 見直し済; phases 1 デジタル完結の補助, 2 一部自動化,
3 完全自動化. Services never commit: the caller's session is the unit of work (``import_files`` may also be given
a unit-of-work factory, and then commits each file on its own)."""

from __future__ import annotations

from tsunagu.kernel.errors import NotFound  # ItemNotFound is one (and a LookupError)
from tsunagu.laws.core.diff import Changed, DifferentLaws, LawDiff, diff
from tsunagu.laws.core.model import Law, LawXmlError, Provision, Sentence
from tsunagu.laws.core.review import (
    ABSENT_EN,
    ABSENT_JA,
    MINISTRY_MAX,
    NOTES_MAX,
    PHASE_EN,
    PHASE_JA,
    PHASES,
    STATUS_EN,
    STATUS_JA,
    STATUSES,
    article_label,
    next_statuses,
)
from tsunagu.laws.core.rules import CATEGORIES
from tsunagu.laws.core.xmlparse import parse_law
from tsunagu.laws.services.imports import (
    DEFAULT_MAX_BYTES,
    FileResult,
    ImportReport,
    import_bytes,
    import_files,
)
from tsunagu.laws.services.redetect import Redetected, redetect
from tsunagu.laws.services.reports import FORMATS, report
from tsunagu.laws.services.review import (
    UNSET,
    CountRow,
    Counts,
    ItemDetail,
    ItemEvent,
    ItemFilter,
    ItemNotFound,
    ItemPage,
    ItemSummary,
    LawSummary,
    ReviewConflict,
    ReviewError,
    Unset,
    category_names,
    counts,
    get_item,
    laws,
    list_items,
    update_item,
)

__all__ = [
    "ABSENT_EN",
    "ABSENT_JA",
    "CATEGORIES",
    "DEFAULT_MAX_BYTES",
    "FORMATS",
    "MINISTRY_MAX",
    "NOTES_MAX",
    "PHASES",
    "PHASE_EN",
    "PHASE_JA",
    "STATUSES",
    "STATUS_EN",
    "STATUS_JA",
    "UNSET",
    "Changed",
    "CountRow",
    "Counts",
    "DifferentLaws",
    "FileResult",
    "ImportReport",
    "ItemDetail",
    "ItemEvent",
    "ItemFilter",
    "ItemNotFound",
    "ItemPage",
    "ItemSummary",
    "Law",
    "LawDiff",
    "LawSummary",
    "LawXmlError",
    "NotFound",
    "Provision",
    "Redetected",
    "ReviewConflict",
    "ReviewError",
    "Sentence",
    "Unset",
    "article_label",
    "category_names",
    "counts",
    "diff",
    "get_item",
    "import_bytes",
    "import_files",
    "laws",
    "list_items",
    "next_statuses",
    "parse_law",
    "redetect",
    "report",
    "update_item",
]

"""The procedure catalogue as data: one TOML file per procedure (``data/procedures/<id>.toml``), parsed and checked
here. Pure: the caller reads the files (``procedures.sources``).

A procedure says who handles it (an agency type and its office), on which legal basis, who may apply, the
assurance it needs (a card login, or a signature with the signature certificate), its form fields with types and
validation, where the government already holds a field (``prefill``: a hub data item and a key path inside its
value, e.g. ``resident.basic.address.text``), its attachments policy, fee, standard processing period and the
workflow states it passes through.

A file that breaks the schema is refused with its name and the offending key (:class:`CatalogueError`)."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

ID = re.compile(r"^[a-z][a-z0-9-]{1,47}$")
FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
PREFILL = re.compile(r"^[a-z_]+\.[a-z_]+(\.[a-z_]+)*$")
LIFE_EVENTS = ("moving", "birth", "bereavement", "childcare", "care", "health", "disaster", "certificates")
HOUSEHOLD = "resident.household"
AGENCY_TYPES = ("municipality", "nhi_insurer", "pension", "municipal_tax", "national_tax")


class CatalogueError(ValueError):
    """A procedure file that does not follow the schema (the message names the file and the key)."""


class FieldType(StrEnum):
    TEXT = "text"
    KANA = "kana"  # full-width katakana (ふりがな as the registry keeps it)
    TEXTAREA = "textarea"
    DATE = "date"
    INTEGER = "integer"
    YEN = "yen"
    CHOICE = "choice"
    BOOLEAN = "boolean"
    MEMBERS = "members"  # one or more household members (refs of ``resident.household``)
    MUNICIPALITY = "municipality"  # a 6-digit local-government code
    TOWN = "town"  # a 町字 of the municipality chosen in the form's municipality field
    BLOCK = "block"  # 番地
    PHONE = "phone"
    EMAIL = "email"


class Assurance(StrEnum):
    LOGIN = "login"  # a card (or passkey) login is enough
    SIGNATURE = "signature"  # the application is signed with the 署名用電子証明書


class Applicant(StrEnum):
    SELF = "self"
    HOUSEHOLD_HEAD = "household_head"  # 世帯主 for the household
    HOUSEHOLD_MEMBER = "household_member"  # any member with a card, for the household (引越し)
    PROXY = "proxy"  # a registered 代理人


class State(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"  # 受付
    IN_REVIEW = "in_review"  # 審査中
    CORRECTION_REQUESTED = "correction_requested"  # 補正依頼
    APPROVED = "approved"  # 承認 (決定)
    COMPLETED = "completed"  # 完了
    REJECTED = "rejected"  # 却下
    WITHDRAWN = "withdrawn"  # 取下げ
    CANCELLED = "cancelled"  # 取消し (a cancelled one-stop)


TERMINAL = frozenset({State.COMPLETED, State.REJECTED, State.WITHDRAWN, State.CANCELLED})
# Every move any procedure may make; a procedure's ``workflow`` narrows it to the states it lists.
MOVES: Mapping[State, frozenset[State]] = {
    State.DRAFT: frozenset({State.SUBMITTED, State.WITHDRAWN}),
    State.SUBMITTED: frozenset(
        {State.IN_REVIEW, State.APPROVED, State.COMPLETED, State.CORRECTION_REQUESTED, State.REJECTED}
    )
    | {State.WITHDRAWN, State.CANCELLED},
    State.IN_REVIEW: frozenset(
        {State.CORRECTION_REQUESTED, State.APPROVED, State.COMPLETED, State.REJECTED, State.WITHDRAWN}
    )
    | {State.CANCELLED},
    State.CORRECTION_REQUESTED: frozenset(
        {State.SUBMITTED, State.WITHDRAWN, State.REJECTED, State.CANCELLED}
    ),
    State.APPROVED: frozenset({State.COMPLETED, State.CANCELLED}),
}
ALWAYS = (State.DRAFT, State.SUBMITTED, State.WITHDRAWN, State.CANCELLED)  # in every workflow
WITHDRAWABLE = frozenset({State.DRAFT, State.SUBMITTED, State.IN_REVIEW, State.CORRECTION_REQUESTED})


class Completion(StrEnum):
    """What completing an application does beyond its state (the back office's ``complete``)."""

    NONE = "none"
    MOVE_OUT = "registry_move_out"  # 転出: record the move-out in the origin's registry
    MOVE_IN = "registry_move_in"  # 転入 at the counter after a card check (特例転入)
    BIRTH = "registry_birth"  # 出生: start the child's record in the household
    RESIDENT_RECORD_COPY = "resident_record_copy"  # 住民票の写し: a signed electronic document


class Attachments(StrEnum):
    NONE = "none"
    OPTIONAL = "optional"
    REQUIRED = "required"


@dataclass(frozen=True)
class Choice:
    value: str
    label_ja: str
    label_en: str

    def label(self, lang: str) -> str:
        return self.label_en if lang == "en" else self.label_ja


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: FieldType
    label_ja: str
    label_en: str
    help_ja: str = ""
    help_en: str = ""
    required: bool = True
    max_length: int | None = None
    minimum: int | None = None  # integer/yen: the value; date: days from today (negative = past)
    maximum: int | None = None
    choices: tuple[Choice, ...] = ()
    prefill: str | None = None  # "<hub item>.<key>..." where the government holds the value
    of: str = ""  # for a town field: the municipality field it belongs to

    def label(self, lang: str) -> str:
        return self.label_en if lang == "en" else self.label_ja

    def help(self, lang: str) -> str:
        return self.help_en if lang == "en" else self.help_ja

    @property
    def item(self) -> str | None:
        """The hub data item behind ``prefill`` (its first two dotted parts)."""
        if self.prefill is None:
            return None
        return ".".join(self.prefill.split(".")[:2])

    @property
    def path(self) -> tuple[str, ...]:
        """The key path inside the item's value."""
        return tuple(self.prefill.split(".")[2:]) if self.prefill else ()


@dataclass(frozen=True)
class LegalBasis:
    law_ja: str
    article_ja: str
    law_en: str
    article_en: str

    def text(self, lang: str) -> str:
        return f"{self.law_en}, {self.article_en}" if lang == "en" else f"{self.law_ja} {self.article_ja}"


@dataclass(frozen=True)
class Procedure:
    id: str
    name_ja: str
    name_en: str
    help_ja: str
    help_en: str
    agency_type: str
    office_ja: str
    office_en: str
    legal_basis: LegalBasis
    applicants: tuple[Applicant, ...]
    assurance: Assurance
    fee_yen: int
    processing_days: int  # 標準処理期間 (calendar days; 0 = on the spot)
    attachments: Attachments
    attachments_ja: str
    attachments_en: str
    workflow: tuple[State, ...]
    fields: tuple[FieldSpec, ...]
    life_events: tuple[str, ...] = ()
    keywords_ja: tuple[str, ...] = ()
    keywords_en: tuple[str, ...] = ()
    completion: Completion = Completion.NONE
    online: bool = True  # False: only filed by staff at the counter or derived from a one-stop
    kind_ja: str = "申請"  # 申請 / 届出 / 請求
    kind_en: str = "Application"

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_ja

    def help(self, lang: str) -> str:
        return self.help_en if lang == "en" else self.help_ja

    def office(self, lang: str) -> str:
        return self.office_en if lang == "en" else self.office_ja

    def field(self, name: str) -> FieldSpec:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def prefilled_fields(self) -> tuple[FieldSpec, ...]:
        return tuple(f for f in self.fields if f.prefill)

    @property
    def typed_fields(self) -> tuple[FieldSpec, ...]:
        return tuple(f for f in self.fields if not f.prefill)

    def prefill_items(self) -> tuple[str, ...]:
        """The hub data items the form's pre-filled fields come from (each asked once)."""
        items = [f.item for f in self.fields if f.item]
        if any(f.type is FieldType.MEMBERS for f in self.fields):
            items.append(HOUSEHOLD)  # the members to choose from
        return tuple(dict.fromkeys(i for i in items if i))

    def may_apply(self, *, by_proxy: bool, is_head: bool) -> bool:
        """Who may apply: a registered proxy only where ``proxy`` is listed; otherwise the person themself (``self``
        or ``household_member``), or the 世帯主 where only ``household_head`` is listed."""
        if by_proxy:
            return Applicant.PROXY in self.applicants
        if Applicant.SELF in self.applicants or Applicant.HOUSEHOLD_MEMBER in self.applicants:
            return True
        return is_head and Applicant.HOUSEHOLD_HEAD in self.applicants

    def can_move(self, current: State, target: State) -> bool:
        return target in MOVES.get(current, frozenset()) and target in self.states

    @property
    def states(self) -> frozenset[State]:
        return frozenset(self.workflow) | frozenset(ALWAYS)

    def search_text(self) -> str:
        parts = [self.name_ja, self.name_en, self.help_ja, self.help_en, *self.keywords_ja, *self.keywords_en]
        return fold(" ".join(parts))


def fold(text: str) -> str:
    """Text for matching: NFKC, lower case, hiragana as katakana (so ひっこし finds ヒッコシ).

    Normalised again after the kana shift: a sound mark that does not compose with a hiragana may compose with
    its katakana (わ + ゛ stays two characters, ワ + ゛ is ヷ), so without it fold would not be idempotent."""
    norm = unicodedata.normalize("NFKC", text).lower()
    return unicodedata.normalize(
        "NFKC", "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in norm)
    )


# --- parsing -----------------------------------------------------------------------------------------------------


class _Reader:
    """Reads one table of a procedure file, naming the file and key in every complaint."""

    def __init__(self, source: str, table: Mapping[str, Any], where: str = "") -> None:
        self.source = source
        self.table = table
        self.where = where
        self.seen: set[str] = set()

    def fail(self, key: str, problem: str) -> CatalogueError:
        return CatalogueError(f"{self.source}: {self.where}{key}: {problem}")

    def get(self, key: str, kind: type, default: Any = ...) -> Any:
        self.seen.add(key)
        if key not in self.table:
            if default is ...:
                raise self.fail(key, "missing")
            return default
        value = self.table[key]
        if kind is int and isinstance(value, bool):
            raise self.fail(key, "must be an integer")
        if not isinstance(value, kind):
            raise self.fail(key, f"must be {kind.__name__}")
        return value

    def text(self, key: str, default: Any = ...) -> str:
        value: str = self.get(key, str, default)
        if default is ... and not value.strip():
            raise self.fail(key, "must not be empty")
        return value

    def texts(self, key: str) -> tuple[str, ...]:
        values = self.get(key, list, [])
        if not all(isinstance(v, str) and v.strip() for v in values):
            raise self.fail(key, "must be a list of non-empty strings")
        return tuple(values)

    def enum(self, key: str, kind: type[StrEnum], default: Any = ...) -> Any:
        raw = self.get(key, str, default)
        if isinstance(raw, StrEnum):
            return raw
        try:
            return kind(raw)
        except ValueError:
            allowed = ", ".join(m.value for m in kind)
            raise self.fail(key, f"{raw!r} is not one of {allowed}") from None

    def done(self) -> None:
        unknown = sorted(set(self.table) - self.seen)
        if unknown:
            raise self.fail(unknown[0], "unknown key")


def _choices(r: _Reader) -> tuple[Choice, ...]:
    out = []
    for i, raw in enumerate(r.get("choices", list, [])):
        if not isinstance(raw, dict):
            raise r.fail(f"choices[{i}]", "must be a table")
        c = _Reader(r.source, raw, f"{r.where}choices[{i}].")
        out.append(Choice(c.text("value"), c.text("label_ja"), c.text("label_en")))
        c.done()
    if len({c.value for c in out}) != len(out):
        raise r.fail("choices", "values must be unique")
    return tuple(out)


def _field(source: str, raw: Mapping[str, Any], index: int) -> FieldSpec:
    r = _Reader(source, raw, f"fields[{index}].")
    name = r.text("name")
    if not FIELD_NAME.match(name):
        raise r.fail("name", f"{name!r} must be snake_case ASCII")
    spec = FieldSpec(
        name=name,
        type=r.enum("type", FieldType),
        label_ja=r.text("label_ja"),
        label_en=r.text("label_en"),
        help_ja=r.text("help_ja", ""),
        help_en=r.text("help_en", ""),
        required=r.get("required", bool, True),
        max_length=r.get("max_length", int, None),
        minimum=r.get("min", int, None),
        maximum=r.get("max", int, None),
        choices=_choices(r),
        prefill=r.get("prefill", str, None),
        of=r.text("of", ""),
    )
    r.done()
    if spec.prefill is not None and not PREFILL.match(spec.prefill):
        raise r.fail("prefill", f"{spec.prefill!r} must be '<item>.<key>…' (lower-case dotted)")
    if spec.type is FieldType.CHOICE and not spec.choices:
        raise r.fail("choices", "a choice field needs choices")
    if spec.type is not FieldType.CHOICE and spec.choices:
        raise r.fail("choices", "only a choice field has choices")
    if spec.minimum is not None and spec.maximum is not None and spec.minimum > spec.maximum:
        raise r.fail("min", "is greater than max")
    if spec.type is FieldType.TOWN and not spec.of:
        raise r.fail("of", "a town field names its municipality field")
    return spec


def parse_procedure(text: str, source: str) -> Procedure:
    """One procedure from its TOML text; ``source`` (the file name) appears in every error."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{source}: not valid TOML ({exc})") from exc
    r = _Reader(source, raw)
    pid = r.text("id")
    if not ID.match(pid):
        raise r.fail("id", f"{pid!r} must be lower-case ASCII with hyphens")
    if source.endswith(".toml") and source.rsplit("/", 1)[-1] != f"{pid}.toml":
        raise r.fail("id", f"the file must be named {pid}.toml")
    agency_type = r.text("agency_type")
    if agency_type not in AGENCY_TYPES:
        raise r.fail("agency_type", f"{agency_type!r} is not one of {', '.join(AGENCY_TYPES)}")
    lb = _Reader(source, r.get("legal_basis", dict), "legal_basis.")
    basis = LegalBasis(lb.text("law_ja"), lb.text("article_ja"), lb.text("law_en"), lb.text("article_en"))
    lb.done()
    raw_fields = r.get("fields", list)
    fields = tuple(_field(source, f, i) for i, f in enumerate(raw_fields) if isinstance(f, dict))
    if len(fields) != len(raw_fields) or not fields:
        raise r.fail("fields", "must be a non-empty array of tables ([[fields]])")
    if len({f.name for f in fields}) != len(fields):
        raise r.fail("fields", "names must be unique")
    names = {f.name for f in fields}
    for f in fields:
        if f.of and f.of not in names:
            raise r.fail("fields", f"{f.name}.of names no field {f.of!r}")
    events = r.texts("life_events")
    for e in events:
        if e not in LIFE_EVENTS:
            raise r.fail("life_events", f"{e!r} is not one of {', '.join(LIFE_EVENTS)}")
    workflow = tuple(_state(r, s) for s in r.texts("workflow"))
    applicants = tuple(_applicant(r, a) for a in r.texts("applicants"))
    if not applicants:
        raise r.fail("applicants", "name at least one")
    procedure = Procedure(
        id=pid,
        name_ja=r.text("name_ja"),
        name_en=r.text("name_en"),
        help_ja=r.text("help_ja"),
        help_en=r.text("help_en"),
        agency_type=agency_type,
        office_ja=r.text("office_ja"),
        office_en=r.text("office_en"),
        legal_basis=basis,
        applicants=applicants,
        assurance=r.enum("assurance", Assurance),
        fee_yen=_non_negative(r, "fee_yen"),
        processing_days=_non_negative(r, "processing_days"),
        attachments=r.enum("attachments", Attachments, Attachments.NONE),
        attachments_ja=r.text("attachments_ja", ""),
        attachments_en=r.text("attachments_en", ""),
        workflow=workflow,
        fields=fields,
        life_events=events,
        keywords_ja=r.texts("keywords_ja"),
        keywords_en=r.texts("keywords_en"),
        completion=r.enum("completion", Completion, Completion.NONE),
        online=r.get("online", bool, True),
        kind_ja=r.text("kind_ja", "申請"),
        kind_en=r.text("kind_en", "Application"),
    )
    r.done()
    if State.COMPLETED not in workflow:
        raise r.fail("workflow", "must reach completed")
    return procedure


def _state(r: _Reader, s: str) -> State:
    try:
        return State(s)
    except ValueError:
        raise r.fail("workflow", f"{s!r} is not one of {', '.join(m.value for m in State)}") from None


def _applicant(r: _Reader, a: str) -> Applicant:
    try:
        return Applicant(a)
    except ValueError:
        raise r.fail("applicants", f"{a!r} is not one of {', '.join(m.value for m in Applicant)}") from None


def _non_negative(r: _Reader, key: str) -> int:
    value: int = r.get(key, int)
    if value < 0:
        raise r.fail(key, "must not be negative")
    return value


@dataclass(frozen=True)
class Catalogue:
    procedures: Mapping[str, Procedure] = field(default_factory=dict)

    def __getitem__(self, pid: str) -> Procedure:
        return self.procedures[pid]

    def get(self, pid: str) -> Procedure | None:
        return self.procedures.get(pid)

    def __iter__(self) -> Any:
        return iter(self.procedures.values())

    def __len__(self) -> int:
        return len(self.procedures)

    def by_life_event(self, event: str) -> list[Procedure]:
        return [p for p in self.procedures.values() if event in p.life_events]

    def search(self, query: str) -> list[Procedure]:
        """Procedures whose names, help or keywords contain every word of ``query`` (ja/en, kana-folded);
        names matching first."""
        words = [w for w in fold(query).split() if w]
        if not words:
            return sorted(self.procedures.values(), key=lambda p: p.id)
        found = [p for p in self.procedures.values() if all(w in p.search_text() for w in words)]
        return sorted(
            found, key=lambda p: (not any(w in fold(p.name_ja + " " + p.name_en) for w in words), p.id)
        )


def build_catalogue(files: Iterable[tuple[str, str]]) -> Catalogue:
    """The catalogue from ``(file name, text)`` pairs; duplicate ids are refused."""
    out: dict[str, Procedure] = {}
    for name, text in files:
        p = parse_procedure(text, name)
        if p.id in out:
            raise CatalogueError(f"{name}: id {p.id!r} is already used")
        out[p.id] = p
    return Catalogue(dict(sorted(out.items())))

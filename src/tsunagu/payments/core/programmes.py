"""Benefit programmes as data: one TOML file per programme (``data/programmes/<id>.toml``), parsed and checked here.
Pure: the caller reads the files (``payments.sources``).

A programme says who pays (the paying agency on the hub and the business of the legal-basis table it looks
accounts up under), on which legal basis, what it pays (``kind``: a flat amount per resident on a reference date,
or 児童手当's monthly amounts by age band with a higher amount from the third child and an optional income
limit), to whom (the person, or the household head 世帯主), when (``schedule``: once, or in even months for the
two months before), how long a person has to change the account or decline after the notice, and how the money
leaves (振込依頼人: code, bank-kana name, remitting bank accounts; the record limit per file; the transfer-date
rule). Facts not checked against the statute are listed under ``[[facts]]`` with ``verified = false``.

A file that breaks the schema is refused with its name and the offending key (:class:`ProgrammeError`)."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tsunagu.payments.core.calendar import is_business_day
from tsunagu.payments.core.runspec import DEFAULT_RECORD_LIMIT, Remitter, RemittingBank, RunSpec

ID = re.compile(r"^[a-z][a-z0-9-]{1,47}$")
AGENCY = re.compile(r"^[A-Z][A-Z0-9-]{1,39}$")
BUSINESS = re.compile(r"^[A-Z][A-Z0-9-]{1,39}$")
PERIOD = re.compile(r"^(\d{4})-(\d{2})$")
ONCE = "once"
MAX_AMOUNT = 9_999_999_999  # the Zengin amount field has 10 digits


class ProgrammeError(ValueError):
    """A programme file that does not follow the schema (the message names the file and the key)."""


class Kind(StrEnum):
    FLAT = "flat"  # a flat amount per person on the roll (特別定額給付金)
    CHILD_ALLOWANCE = "child_allowance"  # 児童手当: monthly amounts per child by age band


class Payee(StrEnum):
    PERSON = "person"  # each person is paid their own amount
    HOUSEHOLD_HEAD = "household_head"  # 世帯主 receives the amounts of the household's members


class Schedule(StrEnum):
    ONCE = "once"  # one period, "once", on the programme's reference date
    EVEN_MONTHS = "even_months"  # periods "YYYY-MM" in Feb, Apr, …, Dec, each paying the two months before


class Boundary(StrEnum):
    """Where an age band ends."""

    BIRTH_MONTH = "birth_month"  # up to the month of the birthday of that age (3歳の誕生月まで)
    SCHOOL_YEAR = "school_year"  # up to the first March 31 after reaching that age (年度末)


class Roll(StrEnum):
    PREVIOUS = "previous"  # a closed day moves the transfer to the business day before
    NEXT = "next"


@dataclass(frozen=True)
class Band:
    """An age band of 児童手当: the monthly amount while the child is in it (and from the third child)."""

    until_age: int
    boundary: Boundary
    monthly: int
    third_child_monthly: int


@dataclass(frozen=True)
class IncomeLimit:
    """所得制限 (before the 2024-10 reform): above ``threshold`` the 特例給付 ``reduced_monthly`` per child;
    above ``upper_limit`` nothing."""

    threshold: int
    upper_limit: int | None
    reduced_monthly: int


@dataclass(frozen=True)
class ChildRules:
    bands: tuple[Band, ...]  # in age order; a child past the last band is not paid
    count_until_age: int  # children counted for "third and later" until this age …
    count_boundary: Boundary  # … ends (22 at the school year: 22歳到達後最初の年度末)
    child_relationships: tuple[str, ...]  # 続柄 of a child in the registry (``child``)
    income: IncomeLimit | None = None


@dataclass(frozen=True)
class Transfer:
    """The transfer-date rule: a fixed date (once) or a day of the payment month, moved to a business day."""

    day: int | None
    date: dt.date | None
    roll: Roll
    lead_days: int  # bank business days between writing the files and the transfer date


@dataclass(frozen=True)
class Fact:
    key: str
    verified: bool
    note: str


@dataclass(frozen=True)
class Programme:
    id: str
    name_ja: str
    name_en: str
    agency: str  # the paying agency on the hub (LG-142051)
    business: str  # the legal-basis table's business its account lookups go under
    legal_basis_ja: str
    legal_basis_en: str
    kind: Kind
    payee: Payee
    schedule: Schedule
    notice_days: int  # days after the notice to change the account or decline
    remitter: Remitter
    record_limit: int
    transfer: Transfer
    flat_amount: int = 0
    reference_date: dt.date | None = None  # schedule once: the roll's date
    children: ChildRules | None = None
    facts: tuple[Fact, ...] = ()

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_ja

    def legal_basis(self, lang: str) -> str:
        return self.legal_basis_en if lang == "en" else self.legal_basis_ja

    @property
    def lg_code(self) -> str:
        """The municipality whose roll the programme reads (the agency's code, ``LG-142051`` → 142051)."""
        return self.agency.removeprefix("LG-")[:6]

    def check_period(self, period: str) -> str:
        """``period`` if the programme pays in it, else :class:`ValueError` naming the periods it takes."""
        if self.schedule is Schedule.ONCE:
            if period != ONCE:
                msg = f"{self.id} is paid once: the period is 'once' (got {period!r})"
                raise ValueError(msg)
            return period
        m = PERIOD.match(period)
        if m is None or not 1 <= int(m.group(2)) <= 12 or int(m.group(2)) % 2:
            msg = f"{self.id} is paid in even months: the period is 'YYYY-MM' with MM even (got {period!r})"
            raise ValueError(msg)
        return period

    def default_period(self, today: dt.date) -> str:
        """The period paid next on or after ``today``'s month."""
        if self.schedule is Schedule.ONCE:
            return ONCE
        month = today.month + today.month % 2
        return f"{today.year}-{month:02d}"

    def covered_months(self, period: str) -> tuple[tuple[int, int], ...]:
        """The months a period pays for: the two before the payment month (児童手当), none for a flat benefit."""
        self.check_period(period)
        if self.schedule is Schedule.ONCE:
            return ()
        year, month = int(period[:4]), int(period[5:])
        index = year * 12 + month - 1
        return tuple((i // 12, i % 12 + 1) for i in (index - 2, index - 1))

    def roll_date(self, period: str) -> dt.date:
        """The roll's date: the programme's reference date, or the last day of the last month paid for."""
        self.check_period(period)
        if self.reference_date is not None:
            return self.reference_date
        year, month = int(period[:4]), int(period[5:])
        return dt.date(year, month, 1) - dt.timedelta(days=1)

    def transfer_date(self, period: str) -> dt.date:
        """The 振込指定日 the rule gives for ``period`` (a bank business day)."""
        self.check_period(period)
        if self.transfer.date is not None:
            day = self.transfer.date
        else:
            assert self.transfer.day is not None  # noqa: S101 - checked by the parser
            if self.schedule is Schedule.ONCE:
                msg = f"{self.id}: a programme paid once needs transfer.date"
                raise ValueError(msg)
            day = dt.date(int(period[:4]), int(period[5:]), self.transfer.day)
        step = dt.timedelta(days=-1 if self.transfer.roll is Roll.PREVIOUS else 1)
        while not is_business_day(day):
            day += step
        return day

    def run_spec(self) -> RunSpec:
        """The programme as the payment run sees it."""
        return RunSpec(
            self.id,
            self.agency,
            self.remitter,
            self.name_ja,
            self.name_en,
            record_limit=self.record_limit,
            lead_days=self.transfer.lead_days,
        )


# --- parsing -----------------------------------------------------------------------------------------------------


class _Reader:
    """Reads one table of a programme file, naming the file and key in every complaint."""

    def __init__(self, source: str, table: Mapping[str, Any], where: str = "") -> None:
        self.source = source
        self.table = table
        self.where = where
        self.seen: set[str] = set()

    def fail(self, key: str, problem: str) -> ProgrammeError:
        return ProgrammeError(f"{self.source}: {self.where}{key}: {problem}")

    def get(self, key: str, kind: type, default: Any = ...) -> Any:
        self.seen.add(key)
        if key not in self.table:
            if default is ...:
                raise self.fail(key, "missing")
            return default
        value = self.table[key]
        if kind is int and isinstance(value, bool):
            raise self.fail(key, "must be an integer")
        if kind is dt.date and isinstance(value, dt.datetime):
            raise self.fail(key, "must be a date (YYYY-MM-DD), not a date-time")
        if not isinstance(value, kind):
            raise self.fail(key, f"must be {'a date' if kind is dt.date else kind.__name__}")
        return value

    def text(self, key: str, default: Any = ...) -> str:
        value: str = self.get(key, str, default)
        if default is ... and not value.strip():
            raise self.fail(key, "must not be empty")
        return value

    def matching(self, key: str, pattern: re.Pattern[str], what: str) -> str:
        value = self.text(key)
        if not pattern.match(value):
            raise self.fail(key, f"{value!r} must be {what}")
        return value

    def amount(self, key: str, default: Any = ...) -> int:
        value: int = self.get(key, int, default)
        if not 0 <= value <= MAX_AMOUNT:
            raise self.fail(key, f"must be between 0 and {MAX_AMOUNT:,} yen")
        return value

    def count(self, key: str, low: int, high: int, default: Any = ...) -> int:
        value: int = self.get(key, int, default)
        if not low <= value <= high:
            raise self.fail(key, f"must be between {low} and {high}")
        return value

    def enum(self, key: str, kind: type[StrEnum], default: Any = ...) -> Any:
        raw = self.get(key, str, default)
        if isinstance(raw, StrEnum):
            return raw
        try:
            return kind(raw)
        except ValueError:
            allowed = ", ".join(m.value for m in kind)
            raise self.fail(key, f"{raw!r} is not one of {allowed}") from None

    def table_at(self, key: str, required: bool = True) -> _Reader | None:
        raw = self.get(key, dict, ... if required else None)
        return None if raw is None else _Reader(self.source, raw, f"{self.where}{key}.")

    def tables(self, key: str) -> list[_Reader]:
        raw = self.get(key, list)
        if not raw or not all(isinstance(t, dict) for t in raw):
            raise self.fail(key, "must be a non-empty array of tables")
        return [_Reader(self.source, t, f"{self.where}{key}[{i}].") for i, t in enumerate(raw)]

    def done(self) -> None:
        unknown = sorted(set(self.table) - self.seen)
        if unknown:
            raise self.fail(unknown[0], "unknown key")


DIGITS = {n: re.compile(rf"^\d{{{n}}}$") for n in (1, 3, 4, 7, 10)}
BANK_KANA = re.compile(r"^[ｦ-ﾟ0-9A-Z ().\-/]{1,40}$")
DEPOSIT_TYPES = ("1", "2", "9")  # the remitter's own account: 普通, 当座, その他


def _bank(r: _Reader) -> RemittingBank:
    bank = RemittingBank(
        bank_code=r.matching("bank_code", DIGITS[4], "4 digits"),
        branch_code=r.matching("branch_code", DIGITS[3], "3 digits"),
        deposit_type=r.text("deposit_type"),
        account_number=r.matching("account_number", DIGITS[7], "7 digits"),
        bank_name=r.text("bank_name", ""),
        branch_name=r.text("branch_name", ""),
    )
    if bank.deposit_type not in DEPOSIT_TYPES:
        raise r.fail("deposit_type", f"{bank.deposit_type!r} is not one of {', '.join(DEPOSIT_TYPES)}")
    for key in ("bank_name", "branch_name"):
        value = getattr(bank, key)
        if value and not (len(value) <= 15 and BANK_KANA.match(value)):
            raise r.fail(key, f"{value!r} must be at most 15 characters of bank kana")
    r.done()
    return bank


def _remitter(r: _Reader) -> Remitter:
    code = r.matching("code", DIGITS[10], "10 digits (振込依頼人コード)")
    name = r.text("name_kana")
    if not BANK_KANA.match(name):
        raise r.fail("name_kana", f"{name!r} must be at most 40 characters of half-width bank kana")
    banks = tuple(_bank(b) for b in r.tables("banks"))
    if len({b.bank_code for b in banks}) != len(banks):
        raise r.fail("banks", "one remitting account per bank")
    r.done()
    return Remitter(code, name, banks)


def _transfer(r: _Reader, schedule: Schedule) -> Transfer:
    day = r.get("day", int, None)
    date = r.get("date", dt.date, None)
    transfer = Transfer(day, date, r.enum("roll", Roll, Roll.PREVIOUS), r.count("lead_days", 0, 20, 2))
    r.done()
    if (day is None) == (date is None):
        raise r.fail("day", "give either day (of the payment month) or date")
    if day is not None and not 1 <= day <= 28:
        raise r.fail("day", "must be between 1 and 28")
    if schedule is Schedule.ONCE and date is None:
        raise r.fail("date", "a programme paid once needs a transfer date")
    if schedule is Schedule.EVEN_MONTHS and day is None:
        raise r.fail("day", "a programme paid in even months needs a day of the month")
    return transfer


def _band(r: _Reader) -> Band:
    band = Band(
        until_age=r.count("until_age", 1, 30),
        boundary=r.enum("boundary", Boundary),
        monthly=r.amount("monthly"),
        third_child_monthly=r.amount("third_child_monthly"),
    )
    r.done()
    return band


def _income(r: _Reader) -> IncomeLimit:
    limit = IncomeLimit(r.amount("threshold"), r.get("upper_limit", int, None), r.amount("reduced_monthly"))
    r.done()
    if limit.upper_limit is not None and limit.upper_limit <= limit.threshold:
        raise r.fail("upper_limit", "must be above threshold")
    return limit


def _children(r: _Reader) -> ChildRules:
    bands = tuple(_band(b) for b in r.tables("bands"))
    ages = [(b.until_age, b.boundary is Boundary.SCHOOL_YEAR) for b in bands]
    if ages != sorted(set(ages)):
        raise r.fail("bands", "must be in increasing age order")
    income_reader = r.table_at("income", required=False)
    rules = ChildRules(
        bands=bands,
        count_until_age=r.count("count_until_age", 1, 30),
        count_boundary=r.enum("count_boundary", Boundary),
        child_relationships=tuple(r.get("child_relationships", list, ["child"])),
        income=_income(income_reader) if income_reader else None,
    )
    if not rules.child_relationships or not all(isinstance(x, str) and x for x in rules.child_relationships):
        raise r.fail("child_relationships", "must be a non-empty list of strings")
    if rules.count_until_age < bands[-1].until_age:
        raise r.fail("count_until_age", "must not be below the last band's age")
    r.done()
    return rules


def _facts(r: _Reader) -> tuple[Fact, ...]:
    if "facts" not in r.table:
        r.seen.add("facts")
        return ()
    out = []
    for f in r.tables("facts"):
        out.append(Fact(f.text("key"), f.get("verified", bool), f.text("note", "")))
        f.done()
        if not out[-1].verified and not out[-1].note.strip():
            raise f.fail("note", "an unverified fact says what is unsure")
    return tuple(out)


def parse_programme(text: str, source: str) -> Programme:
    """One programme from its TOML text; ``source`` (the file name) appears in every error."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProgrammeError(f"{source}: not valid TOML ({exc})") from exc
    r = _Reader(source, raw)
    pid = r.matching("id", ID, "lower-case ASCII with hyphens")
    if source.endswith(".toml") and source.rsplit("/", 1)[-1] != f"{pid}.toml":
        raise r.fail("id", f"the file must be named {pid}.toml")
    kind = r.enum("kind", Kind)
    schedule = r.enum("schedule", Schedule)
    remitter = r.table_at("remitter")
    transfer = r.table_at("transfer")
    assert remitter is not None  # noqa: S101 - a required table
    assert transfer is not None  # noqa: S101 - a required table
    flat = r.table_at("flat", required=False)
    children = r.table_at("child_allowance", required=False)
    programme = Programme(
        id=pid,
        name_ja=r.text("name_ja"),
        name_en=r.text("name_en"),
        agency=r.matching("agency", AGENCY, "an agency code on the hub (LG-142051)"),
        business=r.matching("business", BUSINESS, "a business of the legal-basis table (KOKIN-01)"),
        legal_basis_ja=r.text("legal_basis_ja"),
        legal_basis_en=r.text("legal_basis_en"),
        kind=kind,
        payee=r.enum("payee", Payee),
        schedule=schedule,
        notice_days=r.count("notice_days", 0, 365),
        remitter=_remitter(remitter),
        record_limit=r.count("record_limit", 1, 999_999, DEFAULT_RECORD_LIMIT),
        transfer=_transfer(transfer, schedule),
        flat_amount=_flat_amount(flat) if flat else 0,
        reference_date=r.get("reference_date", dt.date, None),
        children=_children(children) if children else None,
        facts=_facts(r),
    )
    r.done()
    _check_kind(r, programme, flat is not None, children is not None)
    return programme


def _flat_amount(r: _Reader) -> int:
    amount = r.amount("amount")
    r.done()
    if amount == 0:
        raise r.fail("amount", "must be above zero")
    return amount


def _check_kind(r: _Reader, p: Programme, has_flat: bool, has_children: bool) -> None:
    if p.kind is Kind.FLAT and not has_flat:
        raise r.fail("flat", "a flat programme needs [flat] with its amount")
    if p.kind is not Kind.FLAT and has_flat:
        raise r.fail("flat", f"only a flat programme has [flat] (kind is {p.kind})")
    if p.kind is Kind.CHILD_ALLOWANCE and not has_children:
        raise r.fail("child_allowance", "a child_allowance programme needs [child_allowance]")
    if p.kind is not Kind.CHILD_ALLOWANCE and has_children:
        raise r.fail("child_allowance", f"only a child_allowance programme has it (kind is {p.kind})")
    if p.schedule is Schedule.ONCE and p.reference_date is None:
        raise r.fail("reference_date", "a programme paid once names the roll's reference date")
    if p.schedule is Schedule.EVEN_MONTHS and p.reference_date is not None:
        raise r.fail("reference_date", "a programme paid in even months takes each period's roll")
    if p.kind is Kind.CHILD_ALLOWANCE and p.schedule is not Schedule.EVEN_MONTHS:
        raise r.fail("schedule", "a child_allowance programme is paid in even months")


def build_programmes(files: Iterable[tuple[str, str]]) -> dict[str, Programme]:
    """The programmes from ``(file name, text)`` pairs, by id; duplicate ids are refused."""
    out: dict[str, Programme] = {}
    for name, text in files:
        p = parse_programme(text, name)
        if p.id in out:
            raise ProgrammeError(f"{name}: id {p.id!r} is already used")
        out[p.id] = p
    return dict(sorted(out.items()))

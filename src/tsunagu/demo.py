"""The demo municipality: migrate, then seed staff and a synthetic population exactly once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tsunagu import wiring
from tsunagu.credentials.services import sdjwt_demo
from tsunagu.db.engine import make_engine, make_session_factory, unit_of_work
from tsunagu.db.meta import get_meta, set_meta
from tsunagu.db.migrate import upgrade
from tsunagu.health import api as health_api
from tsunagu.identity import api as identity
from tsunagu.identity.oidc import api as oidc
from tsunagu.kernel.clock import JST, Clock, fixed_clock
from tsunagu.kernel.errors import DomainError
from tsunagu.laws import api as laws
from tsunagu.linkage import api as linkage
from tsunagu.linkage.portal import demo as linkage_demo
from tsunagu.payments import api as payments
from tsunagu.pki import api as pki
from tsunagu.procedures import api as procedures
from tsunagu.registry import api as registry_api
from tsunagu.registry.models import Person
from tsunagu.registry.seed.loader import seed_population
from tsunagu.registry.services.keys import RegistryKeys
from tsunagu.settings import Settings

SEED_KEY = "demo_seed"
DEMO_STAFF = (
    ("clerk", "住民記録 太郎 (demo)", "demo-clerk-pass", [identity.Role.REGISTRY_CLERK]),
    ("counter", "窓口 花子 (demo)", "demo-counter-pass", [identity.Role.COUNTER_STAFF]),
    ("auditor", "監査 一郎 (demo)", "demo-auditor-pass", [identity.Role.AUDITOR]),
    ("carddesk", "交付 窓口子 (demo)", "demo-carddesk-pass", [identity.Role.CARD_DESK]),
    ("chiyoda", "千代田 区子 (demo, 千代田区)", "demo-chiyoda-pass", [identity.Role.REGISTRY_CLERK]),
    ("kyufu", "給付 担当子 (demo)", "demo-kyufu-pass", [identity.Role.BENEFITS_OFFICER]),
    ("bank", "三菱ＵＦＪ銀行 窓口 (demo)", "demo-bank-pass", [identity.Role.BANK_COUNTER]),
    ("hoken", "予防接種 担当子 (demo)", "demo-hoken-pass", [identity.Role.HEALTH_OFFICER]),
    ("housei", "法令見直し 担当子 (demo)", "demo-housei-pass", [identity.Role.LAW_REVIEWER]),
)
DEMO_BANK_STAFF = (("bank", "0005"),)  # the bank counter registers accounts held at its own bank only
# Which office's queue each demo staff member works (procedures back office).
DEMO_OFFICES = (
    ("clerk", "LG-142051"),
    ("clerk", "NHI-142051"),
    ("clerk", "JPS"),
    ("counter", "LG-142051"),
    ("chiyoda", "LG-131016"),
)


DEMO_PINS = {"authentication": "1234", "signature": "TSUNAGU1", "surface": "1234"}
DEMO_CARD_HOUSEHOLDS = 8


def _demo_cards(db: Session, settings: Settings, as_of: dt.date) -> int:
    """My Number cards for the people of the first households (adults and children, so that a parent can act
    for a child), all with the same demo PINs."""
    rows = db.execute(
        select(Person.id, Person.household_id)
        .where(Person.status == "resident", Person.address_suppressed.is_(False))
        .order_by(Person.household_id, Person.id)
        .limit(60)
    ).all()
    households: list[int] = []
    people: list[int] = []
    for person_id, household_id in rows:
        if household_id not in households:
            if len(households) == DEMO_CARD_HOUSEHOLDS:
                break
            households.append(household_id)
        people.append(person_id)
    clock = fixed_clock(
        dt.datetime.combine(as_of, dt.time(0, 0), tzinfo=JST)
    )  # valid from the start of as_of
    ctx = identity.card_context(settings, clock)
    pins = identity.CardPins(
        authentication=DEMO_PINS["authentication"],
        surface=DEMO_PINS["surface"],
        signature=DEMO_PINS["signature"],
    )
    return len(identity.issue_demo_cards(db, ctx, people, pins))


# OpenID Connect relying parties of the demo, with fixed secrets (demo only: a real RP gets a random secret
# from `tsunagu oidc register`, shown once). The bank is the example RP in examples/rp/.
DEMO_RELYING_PARTIES = (
    {
        "client_id": "tsunagu-bank-demo",
        "client_secret": "demo-bank-secret-not-for-production",
        "name": "つなぐ銀行 口座開設",
        "name_en": "Tsunagu Bank account opening",
        "sector": "private",
        "redirect_uris": ["http://localhost:8001/callback", "http://127.0.0.1:8001/callback"],
        "scopes": "openid profile address birthdate",
        "sector_identifier": "bank.tsunagu.example",
    },
    {
        "client_id": "city-portal-demo",
        "client_secret": "demo-city-secret-not-for-production",
        "name": "つなぐ市 電子申請",
        "name_en": "Tsunagu City e-applications",
        "sector": "public",
        "redirect_uris": ["http://localhost:8002/callback", "http://127.0.0.1:8002/callback"],
        "scopes": "openid profile address birthdate gender",
        "sector_identifier": "city.tsunagu.example",
    },
)


def _demo_relying_parties(db: Session) -> None:
    """Register the demo relying parties once (idempotent: existing ones are left as they are)."""
    for rp in DEMO_RELYING_PARTIES:
        if oidc.get_client(db, str(rp["client_id"])) is None:
            oidc.register_client(db, Clock(), actor="demo", **rp)  # type: ignore[arg-type]
    db.flush()


DEMO_LINKAGE_RESIDENTS = 300  # residents with synthetic copies at the agencies (the card holders among them)


def _demo_residents(db: Session) -> tuple[list[int], list[int]]:
    """The residents the demo gives agency data and accounts to, in household order, and the card holders
    among the first of them."""
    people = list(
        db.scalars(
            select(Person.id)
            .where(Person.status == "resident")
            .order_by(Person.household_id, Person.id)
            .limit(DEMO_LINKAGE_RESIDENTS)
        )
    )
    return people, [p for p in people[:60] if identity.cards_of(db, p)]


def _demo_linkage(db: Session, settings: Settings, people: list[int], holders: list[int]) -> int:
    """Agencies with certificates, synthetic copies (副本) for the first residents, notices to card holders."""
    keys, clock = linkage.linkage_keys(settings), Clock()
    linkage.provision_all(db, pki.trust_services(settings, clock), keys, clock)
    if settings.environment == "demo":  # not under "test": the HTTP tests count a resident's notices exactly
        linkage.seed_demo_notices(db, keys, holders, clock=clock)
    return linkage_demo.seed_demo_copies(db, keys, people, clock, card_holders=holders)


DEMO_BANKS = ("0001", "0005", "0009", "0010", "9900")  # みずほ, 三菱ＵＦＪ, 三井住友, りそな, ゆうちょ


def _demo_accounts(db: Session, settings: Settings, people: list[int], holders: list[int]) -> int:
    """Public-fund accounts in the account registry (which keeps デジタル庁's copy on the hub in step) for the demo
    residents: most adults, and every member of one card holder's household in four, so that most card holders
    have none and can register one in the portal. Synthetic account numbers at real bank and branch codes."""
    ctx = wiring.payments_context(settings)
    master = ctx.master()
    branches = {b: sorted(master.branches(b))[0] for b in DEMO_BANKS if master.branches(b)}
    banks = sorted(branches)
    as_of = Clock().today()
    households = list(dict.fromkeys(db.get_one(Person, p).household_id for p in holders))
    ready = set(households[0::4])  # one card holder's household in four: all members registered
    unregistered = set(households) - ready
    for username, bank_code in DEMO_BANK_STAFF:
        payments.set_bank_staff(db, master, username, bank_code, by="system:demo")
    registered = 0
    for person_id in people:
        row = db.get_one(Person, person_id)
        adult = (as_of - row.birth_date).days >= 18 * 365
        if row.household_id in unregistered or (
            row.household_id not in ready and (not adult or person_id % 6 == 5)
        ):
            continue
        bank = banks[person_id % len(banks)]
        data = payments.AccountInput(
            bank,
            branches[bank],
            "1",
            f"{(person_id * 104_729) % 10_000_000:07d}",
            payments.registry_holder_kana(db, person_id),
        )
        try:
            with db.begin_nested():
                payments.save_account(db, ctx, master, person_id, data, payments.AccountActor.system())
            registered += 1
        except DomainError:  # a synthetic number drawn twice at one branch: that person goes without
            continue
    return registered


def _demo_doses(db: Session, settings: Settings, holders: list[int], as_of: dt.date, seed: int) -> int:
    """COVID-19 doses (health) for most residents aged 12 or more, and for every demo card holder aged 5 or
    more (so a card holder can show a vaccination record): the card households are the first ones in
    household order, so the first 120 residents in that order are covered too. One bulk insert."""
    first = db.scalars(
        select(Person.id)
        .where(Person.status == "resident")
        .order_by(Person.household_id, Person.id)
        .limit(120)
    ).all()
    people = [
        (person_id, birth)
        for person_id, birth in db.execute(
            select(Person.id, Person.birth_date).where(Person.status == "resident").order_by(Person.id)
        )
    ]
    return health_api.seed_demo_doses(
        db,
        people,
        always={*holders, *first},
        municipality_code=settings.municipality_code,
        as_of=as_of,
        seed=seed,
    )


def _demo_licences(db: Session, settings: Settings, holders: list[int], as_of: dt.date, seed: int) -> int:
    """Driver's licences (about 40% of adults, most adult card holders) and a few national qualifications: the
    sources of the SD-JWT VCs a resident can put in the wallet."""
    people = [
        (p, birth)
        for p, birth in db.execute(
            select(Person.id, Person.birth_date).where(Person.status == "resident").order_by(Person.id)
        )
    ]
    home = registry_api.municipalities().get(settings.municipality_code)
    licences, _qualifications = sdjwt_demo.seed_demo_licences(
        db,
        people,
        holders=holders,
        prefecture=home.prefecture if home else "神奈川県",
        as_of=as_of,
        seed=seed,
    )
    return licences


# The current versions of 16 laws beside the repository (not in it): the law reviewer's demo starts with them.
DEMO_LAWS = Path(__file__).resolve().parents[3] / "shared" / "data" / "laws" / "xml"


def _demo_laws(settings: Settings, folder: Path | None) -> str:
    """Import the demo's laws (each file in its own transaction; a file imported before changes nothing, so this
    runs on every start). Returns a line for the person starting the demo."""
    if folder is None:
        return ""
    files = sorted(folder.glob("*.xml")) if folder.is_dir() else []
    if not files:
        return f"laws: {folder} not found; no laws imported (import some with: tsunagu laws import DIR)"
    engine = make_engine(settings)
    try:
        factory = make_session_factory(engine)
        report = laws.import_files(
            lambda: unit_of_work(factory), files, actor="system:demo", max_bytes=settings.laws_max_file_bytes
        )
    finally:
        engine.dispose()
    failed = f", {report.failed} failed" if report.failed else ""
    return f"laws: {report.imported} imported, {report.unchanged} already there{failed} ({folder})"


@dataclass(frozen=True)
class DemoResult:
    seeded_now: bool
    info: dict[str, Any]
    laws: str = ""  # what the law import did (empty when none was asked for)


def prepare(
    settings: Settings,
    residents: int,
    as_of: dt.date,
    seed: int = 2022,
    progress: Callable[[int], None] | None = None,
    laws_dir: Path | None = None,
) -> DemoResult:
    """Migrate and seed once. The seed runs in one transaction: after a crash, re-running starts clean. Then the
    laws in ``laws_dir`` (default: :data:`DEMO_LAWS` for the demo environment, none otherwise) are imported,
    file by file, on every run (files imported before change nothing)."""
    result = _seed(settings, residents, as_of, seed, progress)
    if laws_dir is None and settings.environment == "demo":
        laws_dir = DEMO_LAWS
    return DemoResult(result.seeded_now, result.info, _demo_laws(settings, laws_dir))


def _seed(
    settings: Settings,
    residents: int,
    as_of: dt.date,
    seed: int,
    progress: Callable[[int], None] | None,
) -> DemoResult:
    upgrade(settings)
    engine = make_engine(settings)
    try:
        with engine.begin() as conn:
            if settings.is_sqlite:
                conn.exec_driver_sql("PRAGMA cache_size=-262144")
            db = Session(bind=conn)
            _demo_relying_parties(db)
            existing = get_meta(db, SEED_KEY)
            if existing is not None:
                return DemoResult(False, existing)
            for username, name, password, roles in DEMO_STAFF:
                identity.create_staff(db, username, name, password, roles)
            for username, agency in DEMO_OFFICES:
                procedures.assign_office(db, username, agency, "system:demo")
            db.flush()
            keys = RegistryKeys.from_master(settings.master_secret())
            report = seed_population(conn, keys, settings.municipality_code, residents, as_of, seed, progress)
            info = {
                "residents": report.residents,
                "households": report.households,
                "former": report.former,
                "events": report.events,
                "suppressed": report.suppressed,
                "seed": seed,
                "as_of": as_of.isoformat(),
            }
            info["cards"] = _demo_cards(db, settings, as_of)
            people, holders = _demo_residents(db)
            info["linkage_copies"] = _demo_linkage(db, settings, people, holders)
            info["public_fund_accounts"] = _demo_accounts(db, settings, people, holders)
            info["vaccination_doses"] = _demo_doses(db, settings, holders, as_of, seed)
            info["driving_licences"] = _demo_licences(db, settings, holders, as_of, seed)
            set_meta(db, SEED_KEY, info)
            db.flush()
            # Fresh statistics so the query planner picks the name indexes (SQLite has none until ANALYZE).
            conn.exec_driver_sql("ANALYZE")
            return DemoResult(True, info)
    finally:
        engine.dispose()

"""Fixtures of the payment-run tests: the payments context built as the shell builds it (the hub with every agency
provisioned), a programme's :class:`RunSpec`, and entitlement rows written straight into ``pay_entitlements`` (the
programmes side makes them in production), each helper in its own unit of work as the edge would."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker
from tests.conftest import NOW

from tsunagu.db.engine import make_engine, make_session_factory
from tsunagu.kernel.clock import Clock
from tsunagu.linkage import api as linkage
from tsunagu.payments import api as payments
from tsunagu.payments.models import Entitlement, File, Instruction, ResultFile, Run
from tsunagu.pki import api as pki
from tsunagu.settings import Settings

AGENCY = "LG-142051"
PROGRAMME = "test-benefit"
PERIOD = "2026-12"
TODAY = NOW.date()  # 2026-11-26, a Thursday
MAIN_BANK, OTHER_BANK = "0009", "0005"
SPEC = payments.RunSpec(
    programme_id=PROGRAMME,
    agency=AGENCY,
    remitter=payments.Remitter(
        code="1420510001",
        name_kana="ﾌｼﾞｻﾜｼ",
        banks=(
            payments.RemittingBank(MAIN_BANK, "100", "1", "1234567", "ﾐﾂｲｽﾐﾄﾓ", "ﾌｼﾞｻﾜ"),
            payments.RemittingBank(OTHER_BANK, "200", "2", "7654321"),
        ),
    ),
    name_ja="テスト給付金",
    name_en="Test Benefit",
)
TABLES = {"runs": Run, "instructions": Instruction, "files": File, "result_files": ResultFile}


@dataclass
class Env:
    settings: Settings
    sessions: sessionmaker[Session]
    ctx: payments.PaymentsContext
    out: Path

    def uow(self) -> AbstractContextManager[Session]:
        return self.ctx.platform.uow()

    def entitle(
        self,
        n: int,
        *,
        state: str = "confirmed",
        bank: str = OTHER_BANK,
        amount: int = 10_000,
        first_person: int = 1,
        period: str = PERIOD,
        **values: Any,
    ) -> list[int]:
        """``n`` entitlements (person ids from ``first_person``), each paid to its own account."""
        now = self.ctx.clock.now()
        rows = [
            {
                "programme_id": PROGRAMME,
                "period": period,
                "person_id": p,
                "payee_person_id": p,
                "amount": amount + p,
                "basis": {"rule": "test"},
                "state": state,
                "account": account(p, bank),
                "account_exchange": None,
                "account_stale": False,
                "deadline": TODAY - dt.timedelta(days=1),
                "reason": "",
                "created_at": now,
                "updated_at": now,
            }
            | values
            for p in range(first_person, first_person + n)
        ]
        with self.uow() as db:
            db.execute(insert(Entitlement), rows)
            return list(
                db.scalars(
                    select(Entitlement.id)
                    .where(
                        Entitlement.person_id.between(first_person, first_person + n - 1),
                        Entitlement.period == period,
                    )
                    .order_by(Entitlement.id)
                ).all()
            )[:n]

    def run(self, **kw: Any) -> payments.RunReport:
        kw.setdefault("out_dir", self.out)
        kw.setdefault("started_by", "test")
        return payments.run(self.uow, self.ctx, kw.pop("spec", SPEC), kw.pop("period", PERIOD), **kw)

    def retry(self, **kw: Any) -> payments.RunReport:
        kw.setdefault("out_dir", self.out)
        kw.setdefault("started_by", "test")
        return payments.retry(self.uow, self.ctx, kw.pop("spec", SPEC), kw.pop("period", PERIOD), **kw)

    def counts(self) -> dict[str, int]:
        with self.sessions() as db:
            return {n: db.scalar(select(func.count()).select_from(m)) or 0 for n, m in TABLES.items()}

    def states(self) -> dict[int, str]:
        with self.sessions() as db:
            return {row.id: row.state for row in db.execute(select(Entitlement.id, Entitlement.state))}

    def instructions(self) -> list[Instruction]:
        with self.sessions() as db:
            return list(db.scalars(select(Instruction).order_by(Instruction.id)).all())

    def files(self) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in sorted(self.out.glob("*.txt"))}


def account(person: int, bank: str = OTHER_BANK) -> dict[str, str]:
    return {
        "bank_code": bank,
        "bank_name": "テスト銀行",
        "branch_code": "001",
        "branch_name": "本店",
        "deposit_type": "1",
        "account_number": str(person).rjust(7, "0"),
        "holder_kana": f"ﾃｽﾄ {person}",
    }


def build_env(settings: Settings, sessions: sessionmaker[Session], clock: Clock, out: Path) -> Env:
    trust = pki.trust_services(settings, clock)
    keys = linkage.linkage_keys(settings)
    platform = linkage.build_exchange(sessions, trust, keys, clock=clock)
    with platform.uow() as db:
        linkage.provision_all(db, trust, keys, clock)
    return Env(settings, sessions, payments.payments_context(settings, clock, platform), out)


@pytest.fixture
def env(session_factory: sessionmaker[Session], settings: Settings, clock: Clock, tmp_path: Path) -> Env:
    return build_env(settings, session_factory, clock, tmp_path / "out")


@pytest.fixture
def other_env(clean_settings: Callable[[str], Settings], clock: Clock, tmp_path: Path) -> Iterator[Env]:
    """A second, independent database (and output directory): what a run without any crash produces."""
    settings = clean_settings("other")
    engine = make_engine(settings)
    try:
        yield build_env(settings, make_session_factory(engine), clock, tmp_path / "other-out")
    finally:
        engine.dispose()

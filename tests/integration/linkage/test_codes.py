"""The hub's per-agency codes (符号) on a real database: stable, different per agency, translated only by the hub,
and no My Number in any linkage table."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker
from tests.integration.conftest import move_in

from tsunagu.db.models_registry import metadata
from tsunagu.kernel.clock import Clock
from tsunagu.kernel.identifiers import my_number_from_serial
from tsunagu.linkage import api as linkage
from tsunagu.linkage import services
from tsunagu.linkage.models import Agency, AgencyCode, LegalBasisVersion
from tsunagu.pki import api as pki
from tsunagu.registry import api as registry
from tsunagu.settings import Settings

NUMBERS = [my_number_from_serial(n) for n in (123_456, 654_321, 777_001)]
MUNICIPALITY, TAX, PENSION, ACCOUNTS = "LG-142051", "LG-142051-TAX", "JPS", "DA-KOKIN"


@pytest.fixture
def keys(settings: Settings) -> linkage.LinkageKeys:
    return linkage.linkage_keys(settings)


@pytest.fixture
def residents(db: Session, ctx: registry.RegistryContext) -> list[int]:
    """Three residents with My Numbers, and the agencies and table loaded; committed."""
    ids = []
    for n, number in enumerate(NUMBERS):
        who = registry.NewPerson(
            "山田", f"太郎{n}", "ヤマダ", "タロウ", dt.date(1980, 4, 1), registry.Sex.MALE, number
        )
        ids.append(
            move_in(
                db, ctx, who, on=dt.date(2020, 4, 1), address=registry.NewAddress("本町", f"{n + 1}番2号", "")
            )
        )
    linkage.load_agencies(db)
    linkage.load_legal_basis(db)
    db.commit()
    return ids


def test_codes_are_stable_and_differ_between_agencies(
    db: Session, keys: linkage.LinkageKeys, residents: list[int]
) -> None:
    first = {a: linkage.code_for(db, keys, a, residents[0]) for a in (MUNICIPALITY, TAX, PENSION, ACCOUNTS)}
    db.commit()
    assert len(set(first.values())) == 4
    again = {a: linkage.code_for(db, keys, a, residents[0]) for a in first}
    assert again == first
    other = linkage.code_for(db, keys, PENSION, residents[1])
    assert other != first[PENSION]
    assert db.scalar(select(func.count()).select_from(AgencyCode)) == 5
    assert all(len(code) == 32 and code.isalnum() for code in first.values())  # 160 random bits, base32


def test_the_hub_translates_both_ways_and_agencies_see_only_codes(
    db: Session, keys: linkage.LinkageKeys, residents: list[int]
) -> None:
    municipal = linkage.code_for(db, keys, MUNICIPALITY, residents[2])
    pension = linkage.translate(db, keys, MUNICIPALITY, municipal, PENSION)  # issued on the way
    assert pension != municipal
    assert linkage.translate(db, keys, PENSION, pension, MUNICIPALITY) == municipal
    assert linkage.code_for(db, keys, PENSION, residents[2]) == pension
    assert linkage.person_for(db, keys, PENSION, pension) == residents[2]
    assert linkage.person_for(db, keys, MUNICIPALITY, municipal) == residents[2]
    assert linkage.person_for(db, keys, PENSION, municipal) is None  # a code is valid only for its agency
    with pytest.raises(linkage.UnknownCode):
        linkage.translate(db, keys, PENSION, municipal, MUNICIPALITY)
    with pytest.raises(linkage.UnknownAgency):
        linkage.code_for(db, keys, "NO-SUCH", residents[2])


def test_an_inactive_agency_gets_no_code(
    db: Session, keys: linkage.LinkageKeys, residents: list[int]
) -> None:
    db.scalars(select(Agency).where(Agency.code == TAX)).one().active = False
    with pytest.raises(linkage.AgencyInactive):
        linkage.code_for(db, keys, TAX, residents[0])


def test_the_person_link_is_sealed_and_the_index_is_keyed(
    db: Session, keys: linkage.LinkageKeys, residents: list[int], settings: Settings
) -> None:
    linkage.code_for(db, keys, MUNICIPALITY, residents[0])
    linkage.code_for(db, keys, PENSION, residents[0])
    rows = db.scalars(select(AgencyCode)).all()
    assert rows[0].person_index == rows[1].person_index == keys.index(residents[0])
    assert rows[0].person_sealed != rows[1].person_sealed  # fresh nonces
    other_keys = linkage.LinkageKeys.from_master(b"another platform's master secret.")
    assert other_keys.index(residents[0]) != keys.index(residents[0])


def _dump(engine: Engine, table: str) -> str:
    parts: list[str] = []
    with engine.connect() as conn:
        for row in conn.execute(text(f'SELECT * FROM "{table}"')):  # noqa: S608 - table names from the metadata
            for value in row:
                if isinstance(value, bytes | memoryview):
                    raw = bytes(value)
                    parts += [raw.hex(), raw.decode("latin-1")]
                else:
                    parts.append(str(value))
    return "\n".join(parts)


def test_no_linkage_table_holds_a_my_number(
    db: Session,
    keys: linkage.LinkageKeys,
    residents: list[int],
    engine: Engine,
    settings: Settings,
    clock: Clock,
) -> None:
    for agency in (MUNICIPALITY, TAX, PENSION, ACCOUNTS, "VRS", "NHI-142051"):
        for pid in residents:
            linkage.code_for(db, keys, agency, pid)
    linkage.provision_agency_certificate(db, pki.trust_services(settings, clock), keys, PENSION, clock=clock)
    db.commit()
    tables = [t.name for t in metadata.sorted_tables if t.name.startswith("linkage_")]
    assert {"linkage_agencies", "linkage_codes", "linkage_legal_basis_versions"} <= set(tables)
    for table in tables:
        dump = _dump(engine, table)
        for number in NUMBERS:
            assert number not in dump, table
            assert number.encode().hex() not in dump, table


def test_loading_is_idempotent_and_a_changed_table_needs_a_new_version(
    db: Session, residents: list[int], clock: Clock
) -> None:
    again = linkage.load_agencies(db)
    assert (again.added, again.updated) == (0, 0)
    assert again.unchanged == len(linkage.agencies())
    table = linkage.legal_basis()
    assert linkage.load_legal_basis(db, clock=clock).loaded_now is False
    assert db.scalar(select(func.count()).select_from(LegalBasisVersion)) == 1
    changed = linkage.LegalBasisTable(table.version, table.effective, "0" * 64, table.rows[:-1])
    with pytest.raises(linkage.TableVersionConflict):
        linkage.load_legal_basis(db, changed, clock=clock)
    bumped = linkage.LegalBasisTable("9999.1", table.effective, "0" * 64, table.rows[:-1])
    assert linkage.load_legal_basis(db, bumped, clock=clock).loaded_now is True
    assert [v[0] for v in linkage.loaded_versions(db)] == [table.version, "9999.1"]


def test_requests_between_agencies_are_checked_against_the_table(db: Session, residents: list[int]) -> None:
    decision = linkage.require_legal_basis(db, MUNICIPALITY, "CHILD-ALLOWANCE-01", TAX, ("local_tax.income",))
    assert decision.allowed
    with pytest.raises(linkage.NotPermittedByLegalBasis, match=r"pension\.status") as refused:
        linkage.require_legal_basis(db, MUNICIPALITY, "CHILD-ALLOWANCE-01", TAX, ("pension.status",))
    assert refused.value.extra["missing"] == ["pension.status"]
    with pytest.raises(linkage.NotPermittedByLegalBasis, match="Requester type 'pension'"):
        linkage.require_legal_basis(db, PENSION, "CHILD-ALLOWANCE-01", TAX, ("local_tax.income",))


def test_provisioning_seals_a_signing_key_and_certifies_it(
    db: Session, keys: linkage.LinkageKeys, residents: list[int], settings: Settings, clock: Clock
) -> None:
    trust = pki.trust_services(settings, clock)
    record = linkage.provision_agency_certificate(db, trust, keys, MUNICIPALITY, clock=clock)
    assert record.status == "certificate-issued"
    assert record.public_key_pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert (
        linkage.provision_agency_certificate(db, trust, keys, MUNICIPALITY, clock=clock) == record
    )  # idempotent
    row = db.scalars(select(Agency).where(Agency.code == MUNICIPALITY)).one()
    assert row.certificate_serial == record.certificate_serial
    assert row.sealed_key is not None
    private = serialization.load_der_private_key(keys.agency_key_box.open(row.sealed_key), None)
    public = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert public == row.public_key

    verified = trust.verify(db, record.certificate_der, pki.CertificateKind.AGENCY)
    assert verified.holder == "agency:LG-142051"
    assert verified.organisation == pki.OrganisationSubject("LG-142051", "藤沢市")
    assert format(verified.serial, "x") == record.certificate_serial
    assert (
        verified.public_key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        == row.public_key
    )  # the sealed key is the one certified
    assert record.certificate_not_after == pki.agency_validity_end(dt.date(2026, 11, 26))
    with pytest.raises(pki.WrongCertificateKind):
        trust.verify(db, record.certificate_der, pki.CertificateKind.SIGNATURE)

    views = {v.code: v for v in linkage.list_agencies(db)}
    assert views[MUNICIPALITY].has_key
    assert views[MUNICIPALITY].certificate_serial == record.certificate_serial
    assert not views[TAX].has_key
    assert views[TAX].certificate_serial is None


def test_provisioning_reissues_after_a_revocation_or_expiry(
    db: Session, keys: linkage.LinkageKeys, residents: list[int], settings: Settings
) -> None:
    at = [dt.datetime(2026, 11, 26, 1, 0, tzinfo=dt.UTC)]
    clock = Clock(lambda: at[0])
    trust = pki.trust_services(settings, clock)
    first = linkage.provision_agency_certificate(db, trust, keys, PENSION, clock=clock)
    trust.revoke(db, int(first.certificate_serial, 16), pki.RevocationReason.SUPERSEDED)
    second = linkage.provision_agency_certificate(db, trust, keys, PENSION, clock=clock)
    assert second.certificate_serial != first.certificate_serial
    assert second.public_key_sha256 == first.public_key_sha256  # the same sealed key, certified again
    assert linkage.provision_agency_certificate(db, trust, keys, PENSION, clock=clock) == second

    at[0] = second.certificate_not_after + dt.timedelta(seconds=1)
    third = linkage.provision_agency_certificate(db, trust, keys, PENSION, clock=clock)
    assert third.certificate_serial not in {first.certificate_serial, second.certificate_serial}
    assert trust.verify(db, third.certificate_der, pki.CertificateKind.AGENCY).holder == "agency:JPS"
    row = db.scalars(select(Agency).where(Agency.code == PENSION)).one()
    assert row.certificate_serial == third.certificate_serial

    row.sealed_key, row.public_key = None, None  # a replaced key (its old certificate left unrevoked)
    db.flush()
    fourth = linkage.provision_agency_certificate(db, trust, keys, PENSION, clock=clock)
    assert fourth.public_key_sha256 != third.public_key_sha256
    assert fourth.certificate_serial != third.certificate_serial


def test_the_sqlite_file_holds_no_my_number(
    db: Session, keys: linkage.LinkageKeys, residents: list[int], engine: Engine, settings: Settings
) -> None:
    if not settings.is_sqlite:
        pytest.skip("a file scan applies to SQLite")
    for pid in residents:
        linkage.code_for(db, keys, PENSION, pid)
    db.commit()
    engine.dispose()
    # the registry stores the number sealed; the linkage tables add nothing that spells it
    for path in Path(settings.data_dir).iterdir():
        if path.name.startswith("tsunagu.db"):
            content = path.read_bytes()
            for number in NUMBERS:
                assert number.encode() not in content, path.name


def test_a_first_code_issued_concurrently_elsewhere_is_reused(
    db: Session,
    keys: linkage.LinkageKeys,
    residents: list[int],
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with session_factory() as other:  # another transaction issues the code first and commits
        theirs = linkage.code_for(other, keys, PENSION, residents[0])
        other.commit()
    real = services._issued
    calls: list[int] = []

    def stale_first(*args: Any) -> str | None:  # as if our look-up ran before their commit
        calls.append(1)
        return None if len(calls) == 1 else real(*args)

    monkeypatch.setattr(services, "_issued", stale_first)
    assert linkage.code_for(db, keys, PENSION, residents[0]) == theirs
    assert len(calls) == 2
    db.commit()  # the failed insert was rolled back to its savepoint; the transaction is usable
    assert db.scalar(select(func.count()).select_from(AgencyCode)) == 1

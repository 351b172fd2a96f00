"""お知らせ on a real database: an agency writes to a person by its own 符号 or to a segment; the resident's inbox
shows what is addressed to them with read state; nothing stored names a My Number or a registry person id."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session
from tests.integration.conftest import move_in

from tsunagu.audit.models import AuditEntry
from tsunagu.kernel.clock import Clock, fixed_clock
from tsunagu.kernel.errors import InvalidInput
from tsunagu.kernel.identifiers import my_number_from_serial
from tsunagu.linkage import api as linkage
from tsunagu.linkage import notices
from tsunagu.linkage.notices.models import Notice, NoticeRead
from tsunagu.registry import api as registry
from tsunagu.settings import Settings

NUMBERS = [my_number_from_serial(n) for n in (223_456, 554_321, 677_001)]
CITY, PENSION, ACCOUNTS = "LG-142051", "JPS", "DA-KOKIN"
TEXT = ("件名", "Subject", "本文です。", "The body.")


@pytest.fixture
def keys(settings: Settings) -> linkage.LinkageKeys:
    return linkage.linkage_keys(settings)


@pytest.fixture
def residents(db: Session, ctx: registry.RegistryContext) -> list[int]:
    """Three residents of 142051 with My Numbers, and the agencies loaded; committed."""
    ids = []
    for n, number in enumerate(NUMBERS):
        who = registry.NewPerson(
            "佐藤", f"花子{n}", "サトウ", "ハナコ", dt.date(1985, 6, 1), registry.Sex.FEMALE, number
        )
        ids.append(
            move_in(
                db, ctx, who, on=dt.date(2021, 4, 1), address=registry.NewAddress("本町", f"{n + 1}番3号", "")
            )
        )
    linkage.load_agencies(db)
    db.commit()
    return ids


def _to_person(
    db: Session, keys: linkage.LinkageKeys, agency: str, person_id: int, title: str = "件名", **kw: object
) -> notices.NoticeSent:
    code = linkage.code_for(db, keys, agency, person_id)
    return notices.send_to_code(db, keys, agency, code, title, "Subject", "本文です。", "The body.", **kw)  # type: ignore[arg-type]


def test_a_notice_to_a_code_reaches_only_that_person(
    db: Session, keys: linkage.LinkageKeys, residents: list[int], clock: Clock
) -> None:
    sent = _to_person(db, keys, PENSION, residents[0], "年金のお知らせ", clock=clock)
    db.commit()
    mine = notices.inbox(db, keys, residents[0])
    assert [(n.id, n.title("ja"), n.sender("ja"), n.read) for n in mine] == [
        (sent.id, "年金のお知らせ", "日本年金機構", False)
    ]
    assert mine[0].created_at == clock.now()
    assert notices.inbox(db, keys, residents[1]) == []
    stored = db.scalars(select(Notice)).one()
    assert stored.audience == "person"
    assert stored.person_index == keys.index(residents[0])


def test_segments_reach_everyone_or_the_residents_of_one_municipality(
    db: Session, keys: linkage.LinkageKeys, residents: list[int]
) -> None:
    early, late = (
        fixed_clock(dt.datetime(2026, 11, 1, tzinfo=dt.UTC)),
        fixed_clock(dt.datetime(2026, 11, 2, tzinfo=dt.UTC)),
    )
    everyone = notices.send_to_segment(db, ACCOUNTS, "all", *TEXT, clock=early)
    here = notices.send_to_segment(db, CITY, "142051", *TEXT, link="https://example.jp/notice", clock=late)
    notices.send_to_segment(db, "LG-131016", "131016", *TEXT, clock=late)  # 千代田区: nobody here
    db.commit()
    for person in residents:
        assert [n.id for n in notices.inbox(db, keys, person)] == [here.id, everyone.id]  # newest first
    assert notices.inbox(db, keys, residents[0])[0].link_url == "https://example.jp/notice"
    assert notices.inbox(db, keys, 999_999) == [
        v for v in notices.inbox(db, keys, 999_999) if v.audience == "all"
    ]  # an unknown person is in no municipality


def test_a_resident_who_moved_out_no_longer_gets_the_municipality_notices(
    db: Session, keys: linkage.LinkageKeys, residents: list[int], ctx: registry.RegistryContext
) -> None:
    registry.record_move_out(
        db, ctx, residents[2], "131016", dt.date(2026, 10, 1), registry.Filing("test-clerk")
    )
    notices.send_to_segment(db, CITY, "142051", *TEXT)
    db.commit()
    assert len(notices.inbox(db, keys, residents[0])) == 1
    assert notices.inbox(db, keys, residents[2]) == []


def test_read_state_is_per_person_and_mark_read_is_idempotent(
    db: Session, keys: linkage.LinkageKeys, residents: list[int], clock: Clock
) -> None:
    both = notices.send_to_segment(db, ACCOUNTS, "all", *TEXT)
    _to_person(db, keys, CITY, residents[0])
    db.commit()
    assert notices.unread_count(db, keys, residents[0]) == 2
    first = notices.mark_read(db, keys, residents[0], both.id, clock=clock)
    db.commit()
    later = fixed_clock(clock.now() + dt.timedelta(hours=1))
    again = notices.mark_read(db, keys, residents[0], both.id, clock=later)
    db.commit()
    assert first.read
    assert again.read_at == first.read_at == clock.now()  # the first reading is kept
    assert db.scalar(select(func.count()).select_from(NoticeRead)) == 1
    assert notices.unread_count(db, keys, residents[0]) == 1
    assert notices.unread_count(db, keys, residents[1]) == 1  # read state is not shared
    assert not notices.notice_for(db, keys, residents[1], both.id).read


def test_a_notice_for_someone_else_is_not_found(
    db: Session, keys: linkage.LinkageKeys, residents: list[int]
) -> None:
    sent = _to_person(db, keys, CITY, residents[0])
    db.commit()
    with pytest.raises(notices.NoticeNotFound):
        notices.notice_for(db, keys, residents[1], sent.id)
    with pytest.raises(notices.NoticeNotFound):
        notices.mark_read(db, keys, residents[1], sent.id)
    with pytest.raises(notices.NoticeNotFound):
        notices.notice_for(db, keys, residents[0], sent.id + 100)


def test_unknown_agencies_codes_and_other_agencies_codes_are_refused(
    db: Session, keys: linkage.LinkageKeys, residents: list[int]
) -> None:
    pension_code = linkage.code_for(db, keys, PENSION, residents[0])
    with pytest.raises(linkage.UnknownAgency):
        notices.send_to_code(db, keys, "NO-SUCH", pension_code, *TEXT)
    with pytest.raises(linkage.UnknownCode):
        notices.send_to_code(db, keys, CITY, pension_code, *TEXT)  # a code of another agency
    with pytest.raises(linkage.UnknownCode):
        notices.send_to_code(db, keys, PENSION, "A" * 32, *TEXT)
    with pytest.raises(linkage.UnknownAgency):
        notices.send_to_segment(db, "NO-SUCH", "all", *TEXT)
    with pytest.raises(InvalidInput):
        notices.send_to_segment(db, CITY, "142052", *TEXT)  # bad check digit
    with pytest.raises(InvalidInput):
        notices.send_to_segment(db, CITY, "130001", *TEXT)  # a prefecture, not a municipality
    assert db.scalar(select(func.count()).select_from(Notice)) == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title_ja", "  "),
        ("title_en", "x" * 201),
        ("body_ja", ""),
        ("body_en", "y" * 4001),
        ("link", "javascript:alert(1)"),
    ],
)
def test_bad_input_writes_nothing(
    db: Session, keys: linkage.LinkageKeys, residents: list[int], field: str, value: str
) -> None:
    code = linkage.code_for(db, keys, CITY, residents[0])
    db.commit()
    audited = db.scalar(select(func.count()).select_from(AuditEntry))
    values = dict(zip(("title_ja", "title_en", "body_ja", "body_en"), TEXT, strict=True))
    values[field] = value
    with pytest.raises(InvalidInput) as info:
        notices.send_to_code(db, keys, CITY, code, **values)  # type: ignore[arg-type]
    assert info.value.field == field
    assert db.scalar(select(func.count()).select_from(Notice)) == 0
    assert db.scalar(select(func.count()).select_from(AuditEntry)) == audited


def test_sending_is_audited_without_personal_data(
    db: Session, keys: linkage.LinkageKeys, residents: list[int]
) -> None:
    sent = _to_person(db, keys, CITY, residents[0])
    notices.send_to_segment(db, CITY, "142051", *TEXT)
    db.commit()
    entries = db.scalars(
        select(AuditEntry).where(AuditEntry.action == "linkage:notice:send").order_by(AuditEntry.id)
    ).all()
    assert (entries[0].actor, entries[0].action, entries[0].subject) == (
        "agency:LG-142051",
        "linkage:notice:send",
        f"notice:{sent.id}",
    )
    assert entries[0].detail == {"audience": "person"}
    assert entries[1].detail == {"audience": "municipality", "segment": "142051"}


def test_no_notice_table_holds_a_my_number_or_a_person_id(
    db: Session, keys: linkage.LinkageKeys, residents: list[int], engine: Engine
) -> None:
    for person in residents:
        sent = _to_person(db, keys, PENSION, person)
        notices.mark_read(db, keys, person, sent.id)
    db.commit()
    for table in ("linkage_notices", "linkage_notice_reads"):
        with engine.connect() as conn:
            rows = conn.execute(text(f'SELECT * FROM "{table}"')).all()  # noqa: S608 - fixed table names
        dump = "\n".join(
            bytes(v).hex() if isinstance(v, bytes | memoryview) else str(v) for r in rows for v in r
        )
        for number in NUMBERS:
            assert number not in dump
            assert number.encode().hex() not in dump
    columns = {c.name for c in Notice.__table__.columns} | {c.name for c in NoticeRead.__table__.columns}
    assert not {"person_id", "my_number", "code"} & columns


def test_the_demo_notices(db: Session, keys: linkage.LinkageKeys, residents: list[int]) -> None:
    sent = notices.seed_demo_notices(db, keys, residents[:2])
    db.commit()
    assert [s.audience for s in sent] == ["person", "person", "person", "all"]
    assert len(notices.inbox(db, keys, residents[0])) == 3
    assert len(notices.inbox(db, keys, residents[1])) == 2
    assert len(notices.inbox(db, keys, residents[2])) == 1

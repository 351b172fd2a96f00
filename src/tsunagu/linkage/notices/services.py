"""Services of お知らせ: agencies send notices (to a person by their 符号, or to a segment), residents read them.

They work in the caller's transaction and never commit (the edge owns it). A person-addressed notice is stored
under the hub's blind index of the person, taken from the agency's code row: the sealed person id is never
opened to send. The inbox finds a person's notices by the same index, plus the segments they belong to now
(everyone; the municipality of their current address while they are a resident there)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tsunagu.audit import api as audit
from tsunagu.kernel.clock import Clock
from tsunagu.kernel.errors import NotFound
from tsunagu.linkage.errors import AgencyInactive, UnknownAgency, UnknownCode
from tsunagu.linkage.keys import LinkageKeys
from tsunagu.linkage.models import Agency, AgencyCode
from tsunagu.linkage.notices.models import Notice, NoticeRead
from tsunagu.linkage.notices.rules import Audience, NoticeText, Segment, parse_segment
from tsunagu.linkage.services import code_for, load_agencies
from tsunagu.registry import api as registry

MAX_PAGE = 200


NOTICE_SENT = audit.AuditAction.LINKAGE_NOTICE_SENT


class NoticeNotFound(NotFound):
    """No such notice, or one not addressed to this person (the two are not told apart)."""

    code = "notice-not-found"
    title = "Notice not found"


@dataclass(frozen=True)
class NoticeSent:
    id: int
    agency: str
    audience: str
    segment: str | None
    created_at: dt.datetime


@dataclass(frozen=True)
class NoticeView:
    """A notice as its reader sees it, with the reader's read state."""

    id: int
    agency: str
    agency_name_ja: str
    agency_name_en: str
    audience: str
    segment: str | None
    title_ja: str
    title_en: str
    body_ja: str
    body_en: str
    link_url: str | None
    created_at: dt.datetime
    read_at: dt.datetime | None

    @property
    def read(self) -> bool:
        return self.read_at is not None

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_ja

    def body(self, lang: str) -> str:
        return self.body_en if lang == "en" else self.body_ja

    def sender(self, lang: str) -> str:
        return self.agency_name_en if lang == "en" else self.agency_name_ja


def _now(clock: Clock | None) -> dt.datetime:
    return (clock or Clock()).now()


def _sender(db: Session, code: str) -> Agency:
    row = db.scalar(select(Agency).where(Agency.code == code))
    if row is None:
        raise UnknownAgency(
            f"No agency with code {code!r}.", ja=f"機関コード {code!r} は登録されていません。"
        )
    if not row.active:
        raise AgencyInactive(f"Agency {code} is not active.", ja=f"機関 {code} は現在利用できません。")
    return row


# --- sending -------------------------------------------------------------------------------------------------


def _store(
    db: Session, agency: Agency, text: NoticeText, segment: Segment, index: bytes | None, clock: Clock | None
) -> NoticeSent:
    row = Notice(
        agency_id=agency.id,
        audience=segment.audience.value,
        person_index=index,
        segment=segment.value,
        title_ja=text.title_ja,
        title_en=text.title_en,
        body_ja=text.body_ja,
        body_en=text.body_en,
        link_url=text.link,
        created_at=_now(clock),
    )
    db.add(row)
    db.flush()
    detail: dict[str, object] = {"audience": row.audience}
    if row.segment is not None:
        detail["segment"] = row.segment
    audit.record(db, f"agency:{agency.code}", NOTICE_SENT, f"notice:{row.id}", **detail)
    return NoticeSent(row.id, agency.code, row.audience, row.segment, row.created_at)


def send_to_code(
    db: Session,
    keys: LinkageKeys,
    agency_code: str,
    code: str,
    title_ja: str,
    title_en: str,
    body_ja: str,
    body_en: str,
    link: str | None = None,
    *,
    clock: Clock | None = None,
) -> NoticeSent:
    """A notice from ``agency_code`` to the person behind its own 符号 ``code`` (:class:`UnknownCode` if the hub
    never issued that code to this agency). ``keys`` is part of the hub's contract; the recipient is stored as the
    code row's blind index (``keys.index(person_id)``), so no sealed id is opened here."""
    del keys  # the index on the code row was made with these keys
    text = NoticeText.of(title_ja, title_en, body_ja, body_en, link)
    agency = _sender(db, agency_code)
    index = db.scalar(
        select(AgencyCode.person_index).where(AgencyCode.agency_id == agency.id, AgencyCode.code == code)
    )
    if index is None:
        raise UnknownCode(
            f"Agency {agency_code} holds no such code.", ja=f"機関 {agency_code} にこの符号はありません。"
        )
    return _store(db, agency, text, Segment(Audience.PERSON), index, clock)


def send_to_segment(
    db: Session,
    agency_code: str,
    segment: str | Segment,
    title_ja: str,
    title_en: str,
    body_ja: str,
    body_en: str,
    link: str | None = None,
    *,
    clock: Clock | None = None,
) -> NoticeSent:
    """A notice to a segment: ``"all"`` (everyone) or a municipality code such as ``"142051"`` (the residents
    whose current address is there, including those who move in later)."""
    text = NoticeText.of(title_ja, title_en, body_ja, body_en, link)
    target = segment if isinstance(segment, Segment) else parse_segment(segment)
    if target.audience is Audience.PERSON:
        msg = "a person is addressed with send_to_code"
        raise ValueError(msg)
    if target.audience is Audience.MUNICIPALITY:
        registry.known_municipality(target.value or "")
    return _store(db, _sender(db, agency_code), text, target, None, clock)


# --- reading -------------------------------------------------------------------------------------------------


def _municipality_of(db: Session, person_id: int) -> str | None:
    """The municipality of the person's current address, while they are a resident there."""
    try:
        facts = registry.basic_facts(db, person_id)
    except NotFound:
        return None
    return facts.lg_code if facts.status == registry.Status.RESIDENT.value else None


def _addressed_to(db: Session, index: bytes, person_id: int) -> ColumnElement[bool]:
    audiences = [
        and_(Notice.audience == Audience.PERSON.value, Notice.person_index == index),
        Notice.audience == Audience.ALL.value,
    ]
    municipality = _municipality_of(db, person_id)
    if municipality is not None:
        audiences.append(and_(Notice.audience == Audience.MUNICIPALITY.value, Notice.segment == municipality))
    return or_(*audiences)


def _views(
    db: Session, keys: LinkageKeys, person_id: int, *where: ColumnElement[bool], limit: int
) -> list[NoticeView]:
    index = keys.index(person_id)
    stmt = (
        select(Notice, Agency.code, Agency.name_ja, Agency.name_en, NoticeRead.read_at)
        .join(Agency, Agency.id == Notice.agency_id)
        .outerjoin(NoticeRead, and_(NoticeRead.notice_id == Notice.id, NoticeRead.person_index == index))
        .where(_addressed_to(db, index, person_id), *where)
        .order_by(Notice.created_at.desc(), Notice.id.desc())
        .limit(limit)
    )
    return [
        NoticeView(
            n.id,
            code,
            name_ja,
            name_en,
            n.audience,
            n.segment,
            n.title_ja,
            n.title_en,
            n.body_ja,
            n.body_en,
            n.link_url,
            n.created_at,
            read_at,
        )
        for n, code, name_ja, name_en, read_at in db.execute(stmt)
    ]


def inbox(db: Session, keys: LinkageKeys, person_id: int, limit: int = 50) -> list[NoticeView]:
    """The person's notices, newest first: addressed to them, or to a segment they are in now."""
    return _views(db, keys, person_id, limit=max(1, min(limit, MAX_PAGE)))


def notice_for(db: Session, keys: LinkageKeys, person_id: int, notice_id: int) -> NoticeView:
    """One notice of the person's inbox; :class:`NoticeNotFound` if it is not addressed to them."""
    found = _views(db, keys, person_id, Notice.id == notice_id, limit=1)
    if not found:
        raise NoticeNotFound(f"No notice {notice_id} for you.", ja="該当するお知らせはありません。")
    return found[0]


def unread_count(db: Session, keys: LinkageKeys, person_id: int) -> int:
    index = keys.index(person_id)
    stmt = (
        select(func.count())
        .select_from(Notice)
        .outerjoin(NoticeRead, and_(NoticeRead.notice_id == Notice.id, NoticeRead.person_index == index))
        .where(_addressed_to(db, index, person_id), NoticeRead.notice_id.is_(None))
    )
    return int(db.scalar(stmt) or 0)


def mark_read(
    db: Session, keys: LinkageKeys, person_id: int, notice_id: int, *, clock: Clock | None = None
) -> NoticeView:
    """Record that the person opened the notice (idempotent: the first reading is kept) and return it as read.
    :class:`NoticeNotFound` if the notice is not addressed to them."""
    view = notice_for(db, keys, person_id, notice_id)
    if view.read_at is not None:
        return view
    now = _now(clock)
    try:
        with db.begin_nested():  # the same person may open it in two tabs at once
            db.add(NoticeRead(notice_id=notice_id, person_index=keys.index(person_id), read_at=now))
    except IntegrityError:
        return notice_for(db, keys, person_id, notice_id)
    return notice_for(db, keys, person_id, notice_id)


# --- demo ----------------------------------------------------------------------------------------------------

CITY, ACCOUNTS = "LG-142051", "DA-KOKIN"


def seed_demo_notices(
    db: Session, keys: LinkageKeys, person_ids: list[int], *, clock: Clock | None = None
) -> list[NoticeSent]:
    """Synthetic demo notices: 藤沢市 to the first person (児童手当の現況届), デジタル庁 to each person
    (公金受取口座), and one from デジタル庁 to everyone. Loads the agencies if needed; call once per demo."""
    load_agencies(db)
    sent: list[NoticeSent] = []
    if person_ids:
        code = code_for(db, keys, CITY, person_ids[0], clock=clock)
        sent.append(
            send_to_code(
                db,
                keys,
                CITY,
                code,
                "児童手当の現況届の提出は不要です",
                "No need to submit the Child Allowance status report",
                "児童手当を受給中の方の現況届は、令和4年度から原則として提出不要になりました。"
                "市が住民基本台帳などで状況を確認します。\n"
                "ただし、離婚協議中で配偶者と別居している方などは提出が必要です。該当する方には別途お知らせします。",
                "Since fiscal 2022, people receiving the Child Allowance no longer need to submit the annual status "
                "report: the city checks the resident registry instead.\n"
                "Some people (for example those separated from a spouse during divorce talks) must still submit it; "
                "they will be told separately.",
                clock=clock,
            )
        )
    for person_id in person_ids:
        code = code_for(db, keys, ACCOUNTS, person_id, clock=clock)
        sent.append(
            send_to_code(
                db,
                keys,
                ACCOUNTS,
                code,
                "公金受取口座の登録内容をご確認ください",
                "Please check your registered public-fund account",
                "給付金などの受取に使う公金受取口座が登録されています。"
                "口座を解約・変更した場合は、マイページから登録内容を変更してください。\n"
                "デジタル庁や市区町村が、電話やメールで口座の暗証番号を尋ねることはありません。",
                "A public-fund account for receiving benefits is registered for you. "
                "If you have closed or changed the account, update it from My Page.\n"
                "The Digital Agency and municipalities never ask for your bank PIN by phone or e-mail.",
                clock=clock,
            )
        )
    sent.append(
        send_to_segment(
            db,
            ACCOUNTS,
            "all",
            "システムメンテナンスのお知らせ",
            "Scheduled maintenance",
            "12月6日（日）午前2時から午前6時まで、メンテナンスのため一部のサービスを利用できません。",
            "Some services will be unavailable for maintenance on Sunday 6 December from 2:00 to 6:00 (JST).",
            clock=clock,
        )
    )
    return sent

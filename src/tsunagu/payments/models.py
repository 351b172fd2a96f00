"""Tables of the payments domain. Rows of other domains are referred to by id only (a registry person id, a hub
exchange id, an agency code): no relationship crosses a domain.

The account registry (公的給付支給等口座登録簿, kept by the Digital Agency, ``DA-KOKIN`` on the hub):

- ``pay_accounts``: the current registration of each person (one account per person: the person id is the key).
- ``pay_account_events``: every registration, change, deletion and invalidation (append-only by trigger), with the
  channel (portal or bank counter), who did it and why.
- ``pay_bank_staff``: the bank each bank-counter staff account acts for.

Benefits, paid by an agency (a municipality) that learns the account through the hub:

- ``pay_entitlements``: one per (programme, period, person): the amount, who is paid (the person or the household
  head), the push-type state (notified → confirmed / declined / no account → instructed → paid / failed), the account
  snapshot the agency looked up (and the hub exchange behind it) and the deadline to change or decline.
- ``pay_runs``: a payment run of one programme and period (attempt 1, and later attempts for retries).
- ``pay_instructions``: one transfer of a run. ``live_key`` (the entitlement id while the transfer is not failed, else
  NULL) is unique: at most one live transfer per entitlement, so nobody is paid twice whatever a re-run does.
- ``pay_files``: the Zengin files a run wrote (one per remitting bank and record-limit chunk), with their digest.
- ``pay_result_files``: the bank result files imported (by digest: importing the same file twice changes nothing)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tsunagu.db.base import Base
from tsunagu.db.types import UTCDateTime


class Account(Base):
    """A registration in the account registry: the current one per person (history in :class:`AccountEvent`)."""

    __tablename__ = "pay_accounts"

    person_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # registry person id: one per person
    bank_code: Mapped[str] = mapped_column(String(4))  # 金融機関コード
    bank_name: Mapped[str] = mapped_column(String(60))  # from the zengin master (kanji)
    bank_kana: Mapped[str] = mapped_column(String(60))
    branch_code: Mapped[str] = mapped_column(String(3))  # 支店コード
    branch_name: Mapped[str] = mapped_column(String(60))
    branch_kana: Mapped[str] = mapped_column(String(60))
    deposit_type: Mapped[str] = mapped_column(
        String(1)
    )  # 預金種目: 1 普通, 2 当座, 4 貯蓄 (liquid deposits only)
    account_number: Mapped[str] = mapped_column(String(7))  # 口座番号, 7 digits
    holder_kana: Mapped[str] = mapped_column(String(30))  # 口座名義人, bank kana (half-width)
    channel: Mapped[str] = mapped_column(String(12))  # portal | bank_counter
    master_version: Mapped[str] = mapped_column(String(20))  # the zengin master it was checked against
    registered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads a plain dict here
    __table_args__ = (  # one person per account: an account already registered by someone else is refused
        UniqueConstraint(
            "bank_code", "branch_code", "deposit_type", "account_number", name="uq_pay_accounts_account"
        ),
    )


class AccountEvent(Base):
    """登録・変更・抹消の履歴 (append-only)."""

    __tablename__ = "pay_account_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(12))  # registered | changed | deleted | invalidated
    account: Mapped[dict[str, Any]] = mapped_column(
        JSON
    )  # the registration after the action (before, if deleted)
    channel: Mapped[str] = mapped_column(String(12))  # portal | bank_counter | system
    actor: Mapped[str] = mapped_column(String(64))  # citizen | proxy | staff:<username> | system
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class BankStaff(Base):
    """Which bank a bank-counter staff account registers for (a bank registers accounts held with it only)."""

    __tablename__ = "pay_bank_staff"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    bank_code: Mapped[str] = mapped_column(String(4))


class Entitlement(Base):
    __tablename__ = "pay_entitlements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    programme_id: Mapped[str] = mapped_column(String(48))
    period: Mapped[str] = mapped_column(String(16))  # "once", or the statutory payment month "2027-02"
    person_id: Mapped[int] = mapped_column(Integer)  # whom it is for (the child, the resident)
    payee_person_id: Mapped[int] = mapped_column(Integer, index=True)  # who is paid (the person or the head)
    amount: Mapped[int] = mapped_column(Integer)  # yen
    basis: Mapped[dict[str, Any]] = mapped_column(
        JSON
    )  # why: the rule lines that applied (age band, child no.)
    state: Mapped[str] = mapped_column(String(12))
    account: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the looked-up account snapshot
    account_exchange: Mapped[str | None] = mapped_column(String(36))  # hub exchange id of that lookup
    account_stale: Mapped[bool] = mapped_column(default=False)  # the registration changed since the lookup
    notified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    deadline: Mapped[dt.date | None] = mapped_column(Date)  # to change the account or decline
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")  # the last failure or refusal
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        # The key leads with the person: it serves the citizen's view. A programme's rows are worked in id ranges
        # (the primary key), and no index leads with the programme or the state: a run changes the state of every
        # row it pays, and such an index cost more than half of that update (ADR 0008).
        UniqueConstraint("person_id", "programme_id", "period", name="uq_pay_entitlements_key"),
    )


class Run(Base):
    __tablename__ = "pay_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    programme_id: Mapped[str] = mapped_column(String(48))
    period: Mapped[str] = mapped_column(String(16))
    attempt: Mapped[int] = mapped_column(Integer)  # 1, then 2, 3 … for retries of failed transfers
    transfer_date: Mapped[dt.date] = mapped_column(Date)  # 振込指定日, a bank business day
    state: Mapped[str] = mapped_column(String(12))  # instructing | written | reconciled
    record_limit: Mapped[int] = mapped_column(Integer)
    started_by: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    written_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("programme_id", "period", "attempt", name="uq_pay_runs_attempt"),)


class Instruction(Base):
    __tablename__ = "pay_instructions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # also 顧客コード1 in the data record
    run_id: Mapped[int] = mapped_column(ForeignKey("pay_runs.id"))  # indexed by ix_pay_instructions_run_bank
    entitlement_id: Mapped[int] = mapped_column(ForeignKey("pay_entitlements.id"), index=True)
    live_key: Mapped[int | None] = mapped_column(Integer, unique=True)  # entitlement id while not failed
    remitter_bank: Mapped[str] = mapped_column(String(4))  # which file: the remitting bank
    bank_code: Mapped[str] = mapped_column(String(4))
    branch_code: Mapped[str] = mapped_column(String(3))
    deposit_type: Mapped[str] = mapped_column(String(1))
    account_number: Mapped[str] = mapped_column(String(7))
    holder_kana: Mapped[str] = mapped_column(String(30))
    amount: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(12))  # instructed | paid | failed
    result_code: Mapped[str] = mapped_column(String(2), default="")
    result_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_pay_instructions_run_bank", "run_id", "remitter_bank", "id"),)


class File(Base):
    __tablename__ = "pay_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("pay_runs.id"), index=True)
    remitter_bank: Mapped[str] = mapped_column(String(4))
    seq: Mapped[int] = mapped_column(Integer)  # 1, 2 … within (run, remitting bank) at the record limit
    name: Mapped[str] = mapped_column(String(120))
    sha256: Mapped[str] = mapped_column(String(64))
    records: Mapped[int] = mapped_column(Integer)  # data records
    total: Mapped[int] = mapped_column(Integer)  # yen
    first_instruction: Mapped[int] = mapped_column(Integer)
    last_instruction: Mapped[int] = mapped_column(Integer)
    written_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("run_id", "remitter_bank", "seq", name="uq_pay_files_seq"),)


class ResultFile(Base):
    __tablename__ = "pay_result_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    run_id: Mapped[int] = mapped_column(ForeignKey("pay_runs.id"), index=True)
    paid: Mapped[int] = mapped_column(Integer)
    failed: Mapped[int] = mapped_column(Integer)
    imported_by: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

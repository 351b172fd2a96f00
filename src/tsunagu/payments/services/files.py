"""The Zengin files of a payment run, written from the database (never from memory) and checked after.

- One file per remitting bank, split at the run's record limit: ``{programme}-{period}-a{attempt}-{bank}-{seq:03}.txt``.
- Records come from the run's instructions **ordered by id**, a page at a time (keyset), so memory stays bounded and
  the bytes are the same however often the files are written: a re-run after a crash rewrites byte-identical files,
  and a digest that differs from the one recorded is refused (:class:`RunFileMismatch`).
- Each file is written to a temporary name in the output directory, fsynced, then renamed over the final name
  (atomic), and the directory is fsynced; its ``pay_files`` row (digest, records, total) follows in its own
  transaction.
- 顧客コード1 is the instruction id, zero-padded to 10 digits, so a bank result maps back; 新規コード is 1 on the
  first transfer to an account (no earlier instruction to it for the same payee), else 0."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import AbstractContextManager
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.orm import Session, aliased

from tsunagu.kernel.errors import Conflict, InvalidInput
from tsunagu.payments.context import PaymentsContext
from tsunagu.payments.core import zengin
from tsunagu.payments.core.runspec import RunSpec
from tsunagu.payments.models import Entitlement, File, Instruction, Run

Uow = Callable[[], AbstractContextManager[Session]]
Progress = Callable[[str, int, int | None], None]
PAGE = 20_000  # instructions read per query while writing
FLUSH_RECORDS = 8_192  # records gathered per write
PARALLEL_CHECK = (
    50_000  # from this many transfers, files are re-read in a second process while writing goes on
)
CUSTOMER_CODE_DIGITS = 10


class RunRefused(InvalidInput):
    code = "payment-run-refused"
    title = "The payment run was refused"


class RunFileMismatch(Conflict):
    code = "payment-run-file-mismatch"
    title = "A payment file does not match what was recorded"


@dataclass(frozen=True)
class WrittenFile:
    name: str
    remitter_bank: str
    seq: int
    records: int
    total: int
    sha256: str
    first_instruction: int
    last_instruction: int

    @classmethod
    def of(cls, row: File) -> WrittenFile:
        return cls(
            row.name,
            row.remitter_bank,
            row.seq,
            row.records,
            row.total,
            row.sha256,
            row.first_instruction,
            row.last_instruction,
        )


def customer_code(instruction_id: int) -> str:
    return str(instruction_id).rjust(CUSTOMER_CODE_DIGITS, "0")


def file_name(programme_id: str, period: str, attempt: int, bank: str, seq: int) -> str:
    return f"{programme_id}-{period}-a{attempt}-{bank}-{seq:03}.txt"


def write_run(
    uow: Uow,
    ctx: PaymentsContext,
    spec: RunSpec,
    run_id: int,
    out_dir: Path,
    *,
    progress: Progress | None = None,
) -> list[WrittenFile]:
    """Write (or rewrite, identically) every file of the run; the files in (bank, seq) order."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with uow() as db:
        r = db.get_one(Run, run_id)
        banks = db.scalars(
            select(Instruction.remitter_bank).where(Instruction.run_id == run_id).distinct()
        ).all()
        recorded = {
            (f.remitter_bank, f.seq): f.sha256 for f in db.scalars(select(File).where(File.run_id == run_id))
        }
        limit, header_date, run_meta = r.record_limit, r.transfer_date, (r.programme_id, r.period, r.attempt)
        count = db.scalar(select(func.count()).where(Instruction.run_id == run_id)) or 0
    written: list[WrittenFile] = []
    done = 0
    checker = _Checker(out_dir, parallel=count >= PARALLEL_CHECK)
    for bank in sorted(banks):
        header = _header(spec, bank, header_date)
        pages = _transfers(uow, run_id, bank)
        for seq in itertools.count(1):
            batch = itertools.islice(pages, limit)
            first = next(batch, None)
            if first is None:
                break
            name = file_name(*run_meta, bank, seq)
            made = _write_file(out_dir / name, header, itertools.chain([first], batch), bank, seq)
            expected = recorded.get((bank, seq))
            if expected is not None and expected != made.sha256:
                raise RunFileMismatch(
                    f"{name} was written before with digest {expected[:12]}…, now {made.sha256[:12]}…: "
                    "the run's instructions changed since; the file is not used.",
                    ja=f"{name} の内容が以前に書き出したものと異なります。",
                )
            if expected is None:
                with uow() as db:
                    db.add(_file_row(run_id, made, ctx.clock.now()))
            written.append(made)
            checker.submit(made)
            done += made.records
            if progress is not None:
                progress("write", done, count)
    checker.finish()  # defence in depth: every file re-read and validated before the run may be marked written
    return written


class _Checker:
    """Re-reads each file as soon as it is written: in a second process for a large run (the check of file k
    overlaps the writing of file k+1 on the second core), inline for a small one."""

    def __init__(self, out_dir: Path, *, parallel: bool) -> None:
        self.out_dir = out_dir
        self.pool = ProcessPoolExecutor(1, mp_context=get_context("spawn")) if parallel else None
        self.pending: list[tuple[WrittenFile, Future[list[str]]]] = []
        self.problems: list[str] = []

    def submit(self, f: WrittenFile) -> None:
        if self.pool is not None:
            try:
                self.pending.append((f, self.pool.submit(check_path, str(self.out_dir / f.name), f)))
            except BrokenProcessPool:  # the second process could not start or died: check here instead
                self.pool = None
            else:
                return
        self.problems += [f"{f.name}: {p}" for p in check_path(str(self.out_dir / f.name), f)]

    def finish(self) -> None:
        try:
            for f, future in self.pending:
                try:
                    found = future.result()
                except BrokenProcessPool:
                    found = check_path(str(self.out_dir / f.name), f)
                self.problems += [f"{f.name}: {p}" for p in found]
        finally:
            if self.pool is not None:
                self.pool.shutdown(cancel_futures=True)
        if self.problems:
            raise RunRefused(
                f"the files failed their check after writing: {'; '.join(self.problems[:5])}. "
                "The run is not marked written.",
                ja="書き出したファイルの検査で問題が見つかりました。支払処理は完了していません。",
            )


def check_path(path: str, f: WrittenFile) -> list[str]:
    return check_file(Path(path).read_bytes(), f)


def _header(spec: RunSpec, bank: str, value_date: dt.date) -> zengin.Header:
    b = spec.remitter.bank(bank)
    return zengin.Header(
        originator_code=spec.remitter.code,
        originator_name=spec.remitter.name_kana,
        value_date=value_date,
        bank_code=b.bank_code,
        branch_code=b.branch_code,
        account_type=b.deposit_type,
        account_number=b.account_number,
        bank_name=b.bank_name,
        branch_name=b.branch_name,
    )


def _transfers(uow: Uow, run_id: int, bank: str) -> Iterator[Any]:
    """The bank's instructions of the run, by id, one page per query (keyset pagination), as rows of
    (id, bank, branch, deposit type, account number, holder kana, amount, new code)."""
    i, earlier, e, e2 = Instruction, aliased(Instruction), Entitlement, aliased(Entitlement)
    seen = exists().where(  # an earlier transfer to the same account for the same payee: not a first one
        e2.payee_person_id == e.payee_person_id,
        earlier.entitlement_id == e2.id,
        earlier.id < i.id,
        earlier.account_number == i.account_number,
        earlier.bank_code == i.bank_code,
        earlier.branch_code == i.branch_code,
        earlier.deposit_type == i.deposit_type,
    )
    columns = (
        i.id,
        i.bank_code,
        i.branch_code,
        i.deposit_type,
        i.account_number,
        i.holder_kana,
        i.amount,
        case((seen, "0"), else_="1"),
    )
    after = 0
    while True:
        with uow() as db:
            conn = db.connection()
            page = (
                select(*columns)
                .join(e, e.id == i.entitlement_id)
                .where(and_(i.run_id == run_id, i.remitter_bank == bank, i.id > after))
                .order_by(i.id)
                .limit(PAGE)
            )
            # plain DB-API tuples: the values are ints and a checked bank code, safe as literals; this skips
            # building a result row object per transfer
            sql = str(page.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
            cursor = conn.connection.cursor()
            try:
                cursor.execute(sql)
                rows = cursor.fetchall()
            finally:
                cursor.close()
        if not rows:
            return
        yield from rows
        after = rows[-1][0]


def _write_file(path: Path, header: zengin.Header, rows: Iterator[Any], bank: str, seq: int) -> WrittenFile:
    """Write to a temporary file beside ``path``, fsync, rename over ``path``, fsync the directory. The records
    are the codec's (``zengin.data_record`` checks each), gathered into large writes."""
    digest, count, total, first, last = hashlib.sha256(), 0, 0, 0, 0
    record, crlf = zengin.data_record_of, b"\r\n"
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with temp.open("wb") as out:
            buffer = [zengin.header_record(header)]
            for iid, bank_code, branch, kind, number, name, amount, new in rows:
                count += 1
                values = (
                    bank_code,
                    "",
                    branch,
                    "",
                    "0000",
                    kind,
                    number,
                    name,
                    str(amount),
                    new,
                    f"{iid:010d}",
                )
                buffer.append(record((*values, "", "7", " "), amount, f"data record {count}"))
                total += amount
                first, last = first or iid, iid
                if len(buffer) >= FLUSH_RECORDS:
                    _flush(out, digest, buffer, crlf)
            buffer += [zengin.trailer_record(count, total), zengin.end_record()]
            _flush(out, digest, buffer, crlf)
            out.flush()
            os.fsync(out.fileno())
        temp.replace(path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return WrittenFile(path.name, bank, seq, count, total, digest.hexdigest(), first, last)


def _flush(out: Any, digest: Any, buffer: list[bytes], newline: bytes) -> None:
    chunk = newline.join(buffer) + newline
    digest.update(chunk)
    out.write(chunk)
    buffer.clear()


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _file_row(run_id: int, made: WrittenFile, now: dt.datetime) -> File:
    return File(
        run_id=run_id,
        remitter_bank=made.remitter_bank,
        seq=made.seq,
        name=made.name,
        sha256=made.sha256,
        records=made.records,
        total=made.total,
        first_instruction=made.first_instruction,
        last_instruction=made.last_instruction,
        written_at=now,
    )


def check_file(data: bytes, f: WrittenFile) -> list[str]:
    if hashlib.sha256(data).hexdigest() != f.sha256:
        return ["the file changed on disk after it was written"]
    parsed = zengin.parse(data)
    problems = [f"record {p.record} {p.field}: {p.en}" for p in zengin.validate(parsed, newline="CRLF")]
    data_records = parsed.of(zengin.Kind.DATA)
    amounts = [r.text("amount") for r in data_records]
    if len(data_records) != f.records or sum(int(a) if a.isdigit() else 0 for a in amounts) != f.total:
        problems.append(f"holds {len(data_records)} transfers, {f.records} were written")
    ids = [int(c) if c.isdigit() else -1 for c in (r.value("customer_code1") for r in data_records)]
    if ids != sorted(ids) or (ids and (ids[0], ids[-1]) != (f.first_instruction, f.last_instruction)):
        problems.append("customer codes are not the run's instruction ids in order")
    return problems

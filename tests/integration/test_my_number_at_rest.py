"""The My Number is stored sealed (AES-GCM) and found through its keyed blind index, never in clear."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from tsunagu.kernel.access import Principal
from tsunagu.kernel.identifiers import my_number_from_serial
from tsunagu.registry.models import Person
from tsunagu.registry.services import queries
from tsunagu.registry.services.records import RegistryContext
from tsunagu.settings import Settings

from .conftest import move_in, person

TODAY = dt.date(2026, 11, 26)
NUMBER = my_number_from_serial(123_456)
OTHER_NUMBER = my_number_from_serial(654_321)


def _spellings(number: str) -> list[bytes]:
    """The ways the clear number could show up in stored bytes."""
    return [
        number.encode("ascii"),
        number.encode("utf-16-le"),
        number.encode("utf-16-be"),
        int(number).to_bytes(8, "big"),
        int(number).to_bytes(8, "little"),
        f"{number[:4]} {number[4:8]} {number[8:]}".encode(),
        f"{number[:4]}-{number[4:8]}-{number[8:]}".encode(),
    ]


def _dump(engine: Engine, table: str) -> str:
    """Every value of every row of ``table``, as text (bytes as hex and as Latin-1)."""
    parts: list[str] = []
    with engine.connect() as conn:
        for row in conn.execute(text(f"SELECT * FROM {table}")):  # noqa: S608 - a fixed table name
            for value in row:
                if isinstance(value, bytes | memoryview):
                    raw = bytes(value)
                    parts += [raw.hex(), raw.decode("latin-1")]
                else:
                    parts.append(str(value))
        if engine.dialect.name == "postgresql":  # the server's own text rendering of whole rows
            parts += [str(r) for r in conn.scalars(text(f"SELECT t::text FROM {table} AS t"))]  # noqa: S608
    return "\n".join(parts)


def test_the_my_number_is_sealed_and_appears_nowhere_in_clear(
    db: Session, ctx: RegistryContext, engine: Engine, settings: Settings
) -> None:
    pid = move_in(db, ctx, person(my_number=NUMBER))
    move_in(db, ctx, person(given="次郎", given_kana="ジロウ", my_number=OTHER_NUMBER))
    db.commit()
    row = db.get_one(Person, pid)
    sealed, index = row.my_number_sealed, row.my_number_index
    assert sealed is not None
    assert index is not None
    assert len(sealed) == 12 + 12 + 16  # nonce, ciphertext of 12 digits, GCM tag
    assert len(index) == 32
    for spelling in _spellings(NUMBER):
        assert spelling not in sealed
        assert spelling not in index
    assert ctx.keys.reveal(sealed) == NUMBER
    assert index == ctx.keys.index.digest(NUMBER.encode())
    assert ctx.keys.seal(NUMBER)[0] != sealed  # a fresh nonce each time: equal numbers do not look equal

    for table in ("registry_persons", "registry_events"):
        dump = _dump(engine, table)
        for number in (NUMBER, OTHER_NUMBER):
            assert number not in dump
            assert number.encode().hex() not in dump
    if settings.is_sqlite:  # the database files themselves, byte for byte
        engine.dispose()
        files = [p for p in Path(settings.data_dir).iterdir() if p.name.startswith("tsunagu.db")]
        assert files
        for path in files:
            content = path.read_bytes()
            for spelling in _spellings(NUMBER):
                assert spelling not in content, path.name


def test_search_finds_a_person_by_my_number_through_the_blind_index(
    db: Session, ctx: RegistryContext, clerk: Principal
) -> None:
    pid = move_in(db, ctx, person(my_number=NUMBER))
    move_in(db, ctx, person(given="次郎", given_kana="ジロウ", my_number=OTHER_NUMBER))
    move_in(db, ctx, person(given="三郎", given_kana="サブロウ"))  # no My Number on record
    db.commit()
    for query in (
        NUMBER,
        f"{NUMBER[:4]} {NUMBER[4:8]} {NUMBER[8:]}",
        f"{NUMBER[:4]}-{NUMBER[4:8]}-{NUMBER[8:]}",
    ):
        found = queries.search(db, ctx.keys, clerk, query, TODAY)
        assert [v.id for v in found] == [pid], query
    full_width = NUMBER.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert [v.id for v in queries.search(db, ctx.keys, clerk, full_width, TODAY)] == [pid]
    assert queries.search(db, ctx.keys, clerk, my_number_from_serial(999), TODAY) == []

    view = queries.get_resident(db, ctx.keys, clerk, pid, TODAY)
    assert view.my_number_masked == f"**** **** {NUMBER[-4:]}"
    assert NUMBER not in repr(view)

"""The exchange log on a real database (SQLite and PostgreSQL): batches, proofs checked by the independent RFC 9162
verifier, consistency across signed heads, append-only triggers, and tampering found by ``verify_log``."""

# The tests play a DBA writing raw SQL; every value in it is the test's own, never input:
# ruff: noqa: S608

from __future__ import annotations

import random
import threading

import pytest
from sqlalchemy import Engine, exc, text
from sqlalchemy.orm import Session, sessionmaker

from tsunagu.db.engine import unit_of_work
from tsunagu.kernel.clock import Clock
from tsunagu.kernel.errors import InvalidInput, NotFound
from tsunagu.linkage.core import merkle
from tsunagu.linkage.core.treehead import TreeHead
from tsunagu.linkage.log import services
from tsunagu.linkage.log.signer import LogSigner, public_keys, signature_valid
from tsunagu.settings import Settings

from ... import rfc9162_verifier as rfc

LOG_TABLES = ("linkage_log_entries", "linkage_log_nodes", "linkage_log_heads", "linkage_log_keys")


def exchange(i: int) -> bytes:
    return f'{{"exchange":{i},"from":"agency-a","to":"agency-b"}}'.encode()


def fill(
    factory: sessionmaker[Session], clock: Clock, signer: LogSigner, batches: list[int]
) -> list[TreeHead]:
    """Append the batches, signing a tree head after each one."""
    heads = []
    done = 0
    for size in batches:
        with unit_of_work(factory) as db:
            indexes = services.append(db, [exchange(done + i) for i in range(size)], clock)
            assert indexes == list(range(done, done + size))
            done += size
            heads.append(services.sign_tree_head(db, clock, signer))
    return heads


def tamper(engine: Engine, *statements: str, table: str = "linkage_log_entries") -> None:
    """What a malicious DBA can do: switch the append-only triggers off, change rows, switch them back on (in one
    transaction, so nobody sees the triggers missing)."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
            for statement in statements:
                conn.execute(text(statement))
            conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
            return
        for action in ("update", "delete"):
            conn.execute(text(f"DROP TRIGGER {table}_no_{action}"))
        for statement in statements:
            conn.execute(text(statement))
        for action in ("UPDATE", "DELETE"):
            conn.execute(
                text(
                    f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                )
            )


def blob(engine: Engine, data: bytes) -> str:
    return f"X'{data.hex()}'" if engine.dialect.name == "sqlite" else f"'\\x{data.hex()}'::bytea"


@pytest.fixture
def signer(settings: Settings) -> LogSigner:
    return LogSigner.from_settings(settings)


def test_batches_build_the_rfc_9162_tree(
    session_factory: sessionmaker[Session], clock: Clock, signer: LogSigner
) -> None:
    heads = fill(session_factory, clock, signer, [1, 2, 5, 64, 100, 1])
    everything = [exchange(i) for i in range(173)]
    assert heads[-1].root_hash == merkle.root([merkle.leaf_hash(x) for x in everything])
    assert [h.tree_size for h in heads] == [1, 3, 8, 72, 172, 173]
    with unit_of_work(session_factory) as db:
        keys = public_keys(db)
        assert all(signature_valid(h, keys) for h in heads)
        public_der = signer.public_key_der(db)
        assert all(rfc.verify_tree_head_signature(h.to_json(), public_der) for h in heads)
        tampered = heads[0].to_json() | {"tree_size": 2}
        assert not rfc.verify_tree_head_signature(tampered, public_der)
        assert services.sign_tree_head(db, clock, signer) == heads[-1]  # a size is signed once
        report = services.verify_log(db)
    assert report.ok, report.problems
    assert report.heads_checked == 6
    assert report.nodes_checked == sum(173 >> level for level in range(1, 9))


def test_inclusion_proofs_verify_with_the_independent_verifier(
    session_factory: sessionmaker[Session], clock: Clock, signer: LogSigner
) -> None:
    heads = fill(session_factory, clock, signer, [7, 1, 56, 1, 35])
    pick = random.Random(9162)  # noqa: S311 - reproducible choice of leaves, never a secret
    with unit_of_work(session_factory) as db:
        for head in heads:
            for index in {0, head.tree_size - 1, *(pick.randrange(head.tree_size) for _ in range(15))}:
                proof = services.inclusion_proof(db, index, head.tree_size)
                assert proof.tree_head == head
                assert rfc.verify_inclusion_json(proof.to_json()), (index, head.tree_size)
                assert proof.entry == exchange(index)
        latest = services.inclusion_proof(db, 3)
        assert latest.tree_size == 100
        forged = latest.to_json() | {"leaf_index": 4}
        assert not rfc.verify_inclusion_json(forged)
        with pytest.raises(InvalidInput):
            services.inclusion_proof(db, 8, 8)
        with pytest.raises(NotFound):
            services.inclusion_proof(db, 0, 9)


def test_consistency_between_every_pair_of_heads(
    session_factory: sessionmaker[Session], clock: Clock, signer: LogSigner
) -> None:
    heads = fill(session_factory, clock, signer, [1, 1, 2, 4, 3, 21, 32, 1])
    with unit_of_work(session_factory) as db:
        for old in heads:
            for new in heads:
                if old.tree_size > new.tree_size:
                    continue
                proof = services.consistency_proof(db, old.tree_size, new.tree_size)
                assert rfc.verify_consistency(
                    old.tree_size, new.tree_size, old.root_hash, new.root_hash, proof.consistency_path
                )
                assert merkle.verify_consistency(
                    old.tree_size, new.tree_size, old.root_hash, new.root_hash, proof.consistency_path
                )
        with pytest.raises(InvalidInput):
            services.consistency_proof(db, 8, 4)


@pytest.mark.parametrize("table", LOG_TABLES)
def test_the_log_tables_refuse_update_and_delete(
    session_factory: sessionmaker[Session], clock: Clock, signer: LogSigner, table: str
) -> None:
    fill(session_factory, clock, signer, [4])
    for statement in (_update(table), f"DELETE FROM {table}"):
        with pytest.raises(exc.DBAPIError, match="append-only"), unit_of_work(session_factory) as db:
            db.execute(text(statement))


def _update(table: str) -> str:
    column = {
        "linkage_log_entries": "entry",
        "linkage_log_nodes": "hash",
        "linkage_log_heads": "signature",
        "linkage_log_keys": "public_key",
    }[table]
    return f"UPDATE {table} SET {column} = {column}"


def test_a_changed_entry_is_found_by_its_index(
    engine: Engine, session_factory: sessionmaker[Session], clock: Clock, signer: LogSigner
) -> None:
    fill(session_factory, clock, signer, [10, 30])
    changed = "CAST(entry || 'x' AS BLOB)" if engine.dialect.name == "sqlite" else "entry || '\\x78'::bytea"
    tamper(engine, f"UPDATE linkage_log_entries SET entry = {changed} WHERE leaf_index = 17")
    with unit_of_work(session_factory) as db:
        report = services.verify_log(db)
    assert not report.ok
    assert report.first_bad_index == 17
    assert [p.kind for p in report.problems] == ["entry"]


def test_a_change_rehashed_up_to_the_leaf_is_still_found(
    engine: Engine, session_factory: sessionmaker[Session], clock: Clock, signer: LogSigner
) -> None:
    heads = fill(session_factory, clock, signer, [10, 30])
    forged = b"forged"
    set_leaf = f"entry = {blob(engine, forged)}, leaf_hash = {blob(engine, merkle.leaf_hash(forged))}"
    tamper(engine, f"UPDATE linkage_log_entries SET {set_leaf} WHERE leaf_index = 25")
    with unit_of_work(session_factory) as db:
        report = services.verify_log(db)
        assert not report.ok
        assert report.first_bad_index == 24  # the subtree (1, 12) over entries 24..25 disagrees
        assert {p.kind for p in report.problems} == {"node"}
        proof = services.inclusion_proof(db, 25, heads[-1].tree_size)
    assert not rfc.verify_inclusion_json(proof.to_json())  # the signed root gives the forgery away


def test_a_change_rehashed_up_to_the_root_is_bounded_by_the_signed_heads(
    engine: Engine, session_factory: sessionmaker[Session], clock: Clock, signer: LogSigner
) -> None:
    fill(session_factory, clock, signer, [10, 30])
    forged = [exchange(i) for i in range(40)]
    forged[25] = b"forged"
    leaves = [merkle.leaf_hash(x) for x in forged]
    set_leaf = f"entry = {blob(engine, forged[25])}, leaf_hash = {blob(engine, leaves[25])}"
    tamper(engine, f"UPDATE linkage_log_entries SET {set_leaf} WHERE leaf_index = 25")
    rehash = [
        f"UPDATE linkage_log_nodes SET hash = {blob(engine, merkle.root(leaves[i << lv : (i + 1) << lv]))} "
        f"WHERE level = {lv} AND node_index = {i}"
        for lv, i in ((lv, 25 >> lv) for lv in range(1, 6))
        if (i + 1) << lv <= 40
    ]
    tamper(engine, *rehash, table="linkage_log_nodes")
    with unit_of_work(session_factory) as db:
        report = services.verify_log(db)
    assert [p.kind for p in report.problems] == ["head-root"]
    assert report.first_bad_index == 10  # the head of 10 still verifies; the head of 40 does not


def test_a_deleted_entry_is_found(
    engine: Engine, session_factory: sessionmaker[Session], clock: Clock, signer: LogSigner
) -> None:
    fill(session_factory, clock, signer, [12])
    tamper(engine, "DELETE FROM linkage_log_entries WHERE leaf_index IN (5, 11)")
    with unit_of_work(session_factory) as db:
        report = services.verify_log(db)
    assert report.first_bad_index == 5
    assert report.tree_size == 11  # the last entry went too: the signed head of 12 covers more than is left
    assert {p.kind for p in report.problems} == {"entry", "node", "nodes-count", "head-size"}


def test_concurrent_appenders_extend_one_tree(
    session_factory: sessionmaker[Session], clock: Clock, signer: LogSigner
) -> None:
    """Two hub workers appending at once: every batch lands whole, in some order, and the tree stays sound."""
    failures: list[BaseException] = []

    def worker(tag: str) -> None:
        try:
            for batch in range(8):
                with unit_of_work(session_factory) as db:
                    services.append(db, [f"{tag}-{batch}-{i}".encode() for i in range(25)], clock)
        except BaseException as exc:  # reported below, in the test's thread
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(tag,)) for tag in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with unit_of_work(session_factory) as db:
        services.sign_tree_head(db, clock, signer)
        report = services.verify_log(db)
    assert report.ok, report.problems
    assert report.tree_size == 400

"""``tsunagu audit ...``: check the hub's exchange log (RFC 9162 Merkle tree) against its entries and signed heads."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session, sessionmaker

from tsunagu.clikit import DATA_DIR_HELP, domain_errors, emit, fail, settings_for
from tsunagu.db.engine import make_engine, make_session_factory, unit_of_work
from tsunagu.linkage.core import merkle
from tsunagu.linkage.core.treehead import b64
from tsunagu.linkage.log import services
from tsunagu.linkage.log.signer import public_keys, signature_valid

DataDir = Annotated[Path | None, typer.Option("--data-dir", help=DATA_DIR_HELP)]
AsJson = Annotated[bool, typer.Option("--json", help="Print a JSON object instead of text.")]


def _factory(data_dir: Path | None) -> sessionmaker[Session]:
    return make_session_factory(make_engine(settings_for(data_dir)))


def build() -> typer.Typer:
    app = typer.Typer(help="The hub's verifiable exchange log (RFC 9162 Merkle tree).", no_args_is_help=True)

    @app.command("verify")
    def verify(data_dir: DataDir = None, as_json: AsJson = False) -> None:
        """Recompute the tree from the entries; check every stored subtree and signed tree head (exit 1 on
        any mismatch, naming the first entry concerned)."""
        with unit_of_work(_factory(data_dir)) as db:
            report = services.verify_log(db)
        if as_json:
            sys.stdout.write(json.dumps(report.to_json(), indent=2) + "\n")
            if not report.ok:
                raise typer.Exit(1)
            return
        if not report.ok:
            lines = "\n".join(f"  {p.message}" for p in report.problems[:20])
            fail(
                f"the exchange log does not verify: first mismatching entry index {report.first_bad_index}\n"
                f"{lines}"
            )
        emit(
            False,
            {},
            f"exchange log verified: {report.tree_size:,} entries, {report.nodes_checked:,} stored subtrees, "
            f"{report.heads_checked} signed tree heads\n  root {b64(report.root_hash)}",
        )

    @app.command("consistency")
    def consistency(
        old_size: Annotated[int, typer.Argument(min=0, help="Size of the earlier signed tree head.")],
        new_size: Annotated[int, typer.Argument(min=0, help="Size of the later signed tree head.")],
        data_dir: DataDir = None,
        as_json: AsJson = False,
    ) -> None:
        """Check that the signed tree of NEW_SIZE extends the signed tree of OLD_SIZE (RFC 9162 §2.1.4)."""
        with domain_errors(as_json), unit_of_work(_factory(data_dir)) as db:
            proof = services.consistency_proof(db, old_size, new_size)
            keys = public_keys(db)
        signed = signature_valid(proof.old, keys) and signature_valid(proof.new, keys)
        consistent = merkle.verify_consistency(
            old_size, new_size, proof.old.root_hash, proof.new.root_hash, proof.consistency_path
        )
        if not (signed and consistent):
            what = "a tree head's signature does not verify" if not signed else "the proof does not verify"
            fail(f"tree heads {old_size} and {new_size} are not consistent: {what}", as_json=as_json)
        emit(
            as_json,
            {"ok": True, **proof.to_json()},
            f"tree head {new_size} extends tree head {old_size} "
            f"({len(proof.consistency_path)} hashes in the proof; both signatures verify)",
        )

    @app.command("proof")
    def proof(
        leaf_index: Annotated[int, typer.Argument(min=0, help="Index of the entry.")],
        tree_size: Annotated[
            int | None, typer.Option(help="Size of the signed tree head (default: the latest).")
        ] = None,
        data_dir: DataDir = None,
    ) -> None:
        """Print the inclusion proof of an entry as JSON (what the portal serves)."""
        with domain_errors(True), unit_of_work(_factory(data_dir)) as db:
            found = services.inclusion_proof(db, leaf_index, tree_size)
        sys.stdout.write(json.dumps(found.to_json(), indent=2) + "\n")

    return app

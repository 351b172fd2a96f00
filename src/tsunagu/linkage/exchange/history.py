"""The person's side of the hub log: やりとり履歴 (every exchange about them, minus what a provider marked not
disclosable) and a downloadable inclusion proof for each entry.

The proof is RFC 9162 JSON (``tree_size``, ``leaf_index``, ``inclusion_path``, the leaf ``entry`` and the signed
``tree_head``) plus the log's public key, so anyone can check it offline: the leaf hashes to the root along the
path, and the tree head's ES256 signature verifies with a key whose SHA-256 is the head's ``key_id``. The hub signs
a new tree head on demand when the latest one does not yet cover the entry."""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tsunagu.kernel.clock import Clock
from tsunagu.kernel.errors import NotFound
from tsunagu.linkage.exchange.models import Exchange
from tsunagu.linkage.keys import LinkageKeys
from tsunagu.linkage.log import services as log
from tsunagu.linkage.log import store
from tsunagu.linkage.log.signer import LogSigner, public_keys

PROOF_FORMAT = "tsunagu-linkage-inclusion-proof/1"


@dataclass(frozen=True)
class ExchangeView:
    """One line of やりとり履歴."""

    exchange_id: str
    requester: str
    provider: str
    business: str
    items: tuple[str, ...]
    requested_at: dt.datetime
    provided_at: dt.datetime
    by_proxy: bool
    leaf_index: int


def _view(row: Exchange) -> ExchangeView:
    return ExchangeView(
        row.exchange_id,
        row.requester,
        row.provider,
        row.business,
        tuple(row.items.split()),
        row.requested_at,
        row.provided_at,
        row.by_proxy,
        row.leaf_index,
    )


def exchanges_about(
    db: Session, keys: LinkageKeys, person_id: int, *, limit: int = 200, include_withheld: bool = False
) -> list[ExchangeView]:
    """Exchanges about a person, newest first. An exchange in which the provider marked any item not disclosable
    (番号法 art. 23(2)) is left out unless ``include_withheld`` (for the hub's own auditors)."""
    query = select(Exchange).where(Exchange.person_index == keys.index(person_id))
    if not include_withheld:
        query = query.where(Exchange.withheld == "")
    return [_view(r) for r in db.scalars(query.order_by(Exchange.id.desc()).limit(limit))]


def _own(db: Session, keys: LinkageKeys, person_id: int, exchange_id: str) -> Exchange:
    row = db.scalar(
        select(Exchange).where(
            Exchange.exchange_id == exchange_id,
            Exchange.person_index == keys.index(person_id),
            Exchange.withheld == "",
        )
    )
    if row is None:
        raise NotFound("No such exchange in your history.", ja="やりとり履歴にその記録はありません。")
    return row


def inclusion_proof_for(
    db: Session,
    keys: LinkageKeys,
    signer: LogSigner,
    person_id: int,
    exchange_id: str,
    clock: Clock | None = None,
) -> dict[str, Any]:
    """The proof of one of the person's own exchanges (signing a tree head first if none covers it yet)."""
    row = _own(db, keys, person_id, exchange_id)
    latest = db.scalar(select(store.HEADS.c.tree_size).order_by(store.HEADS.c.tree_size.desc()).limit(1))
    if latest is None or latest <= row.leaf_index:
        log.sign_tree_head(db, clock or Clock(), signer)
    proof = log.inclusion_proof(db, row.leaf_index)
    public = public_keys(db)[proof.tree_head.key_id]
    return {
        "format": PROOF_FORMAT,
        **proof.to_json(),
        "log_public_key": base64.b64encode(public).decode(),
        "exchange_id": row.exchange_id,
    }

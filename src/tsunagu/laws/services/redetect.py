"""Running the detector again over the stored latest versions (検出のやり直し), for when the rules changed: importing
the same file again changes nothing (its bytes are known), so this is how new rules reach the review items. Items
are brought in line exactly as an import of a newer version does (new findings → 未着手; items keep their review;
one no longer found gets ``present`` false and a history row)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tsunagu.audit import api as audit
from tsunagu.laws.core.detect import detect_law
from tsunagu.laws.core.model import Provision, Sentence
from tsunagu.laws.models import LawDocument, LawProvision
from tsunagu.laws.services.imports import upsert_items


@dataclass(frozen=True)
class Redetected:
    """One law's latest version after the detector ran again."""

    law_id: str
    version: str
    title: str
    findings: int
    new_items: int
    absent_items: int
    restored_items: int


def _provisions(db: Session, doc: LawDocument) -> list[Provision]:
    """The stored provisions as the detector reads them (it looks at the law, the address, the text and whether
    the provision is deleted; the text is kept as one sentence)."""
    rows = db.execute(
        select(
            LawProvision.address,
            LawProvision.title,
            LawProvision.caption,
            LawProvision.text,
            LawProvision.deleted,
        )
        .where(LawProvision.document_id == doc.id)
        .order_by(LawProvision.position)
    )
    return [
        Provision(
            law_id=doc.law_id,
            address=address,
            part=address.split("/", 1)[0],
            article=None,
            paragraph=None,
            items=(),
            caption=caption,
            title=title,
            sentences=(Sentence(text, ""),),
            deleted=deleted,
        )
        for address, title, caption, text, deleted in rows
    ]


def redetect(
    db: Session, *, actor: str, law_id: str | None = None, now: dt.datetime | None = None
) -> tuple[Redetected, ...]:
    """Run the current rules over the latest version of every law (or of ``law_id``) in the caller's transaction,
    update the review items and audit each law; ``now`` stamps the changes (the system clock when not given)."""
    where = [LawDocument.is_latest.is_(True)] + ([LawDocument.law_id == law_id] if law_id else [])
    done: list[Redetected] = []
    now = now or dt.datetime.now(dt.UTC)
    for doc in db.scalars(select(LawDocument).where(*where).order_by(LawDocument.law_id)).all():
        provisions = _provisions(db, doc)
        findings = detect_law(provisions)
        changes = upsert_items(db, doc, provisions, findings, actor=actor, now=now)
        doc.findings = len(findings)
        audit.record(
            db,
            actor,
            audit.AuditAction.LAWS_FINDINGS_REDETECTED,
            f"law:{doc.law_id}",
            version=doc.version,
            findings=len(findings),
            new_items=changes.new,
            absent_items=changes.absent,
        )
        done.append(
            Redetected(
                doc.law_id,
                doc.version,
                doc.title,
                len(findings),
                changes.new,
                changes.absent,
                changes.restored,
            )
        )
    db.flush()
    return tuple(done)

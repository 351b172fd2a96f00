"""Differences between two versions of one law, provision by provision, matched on their stable addresses."""

from __future__ import annotations

from dataclasses import dataclass

from tsunagu.laws.core.model import Law, Provision


@dataclass(frozen=True)
class Changed:
    old: Provision
    new: Provision


@dataclass(frozen=True)
class LawDiff:
    """``added`` and ``changed`` in the new version's order, ``removed`` in the old one's. A provision has changed
    when its sentences (text or role), caption or deletion differ; a new article title alone is not a change."""

    law_id: str
    old_version: str
    new_version: str
    added: tuple[Provision, ...]
    removed: tuple[Provision, ...]
    changed: tuple[Changed, ...]

    @property
    def unchanged(self) -> bool:
        return not (self.added or self.removed or self.changed)


class DifferentLaws(ValueError):
    def __init__(self, old: str, new: str) -> None:
        self.old = old
        self.new = new
        super().__init__(f"not two versions of one law: {old} and {new}")


def _same(a: Provision, b: Provision) -> bool:
    return a.sentences == b.sentences and a.caption == b.caption and a.deleted == b.deleted


def diff(old: Law, new: Law) -> LawDiff:
    """What changed from ``old`` to ``new`` (two versions of the same law; raises :class:`DifferentLaws` otherwise)."""
    if old.law_id != new.law_id:
        raise DifferentLaws(old.law_id, new.law_id)
    before = {p.address: p for p in old.provisions}
    after = {p.address for p in new.provisions}
    added = tuple(p for p in new.provisions if p.address not in before)
    removed = tuple(p for p in old.provisions if p.address not in after)
    changed = tuple(
        Changed(before[p.address], p)
        for p in new.provisions
        if p.address in before and not _same(before[p.address], p)
    )
    return LawDiff(old.law_id, old.version, new.version, added, removed, changed)

"""Public interface of the laws domain (the only module other packages may import)."""

from __future__ import annotations

from tsunagu.laws.core.model import Law, LawXmlError, Provision, Sentence

__all__ = ["Law", "LawXmlError", "Provision", "Sentence"]

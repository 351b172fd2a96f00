"""The analog-regulation detector (アナログ規制の検出): rules as data over a provision's text.

:func:`detect` looks at one provision; :func:`detect_law` at every provision of a law, so that an exclusion with
``scope = "article"`` sees the other paragraphs of the same article (a paper duty in paragraph 2 that paragraph 3
lets be met by 電磁的方法 is not reported). A provision yields at most one finding per category: the match with the
highest confidence (the earliest among equals).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from tsunagu.laws.core.model import Provision
from tsunagu.laws.core.rules import Category, Exclusion, Rules, default_rules


@dataclass(frozen=True)
class Finding:
    """One category found in one provision. ``start``/``end`` index ``provision.text``; ``matched`` is that span."""

    law_id: str
    address: str
    category: str
    start: int
    end: int
    matched: str
    confidence: float
    technology: str
    rule: str

    def evidence(self, text: str, margin: int = 20) -> str:
        """The match with ``margin`` characters either side, for a person reading a report."""
        left = max(0, self.start - margin)
        right = min(len(text), self.end + margin)
        return ("…" if left else "") + text[left:right] + ("…" if right < len(text) else "")


def article_key(address: str) -> str:
    """The part of an address that names the article (``main/a4_2/p1/i3`` → ``main/a4_2``)."""
    head, _, _ = address.partition("/p")
    return head


def _excluded(exclusion: Exclusion, text: str, start: int, end: int, article_text: str) -> bool:
    if exclusion.scope == "provision":
        return exclusion.regex.search(text) is not None
    if exclusion.scope == "article":
        return exclusion.regex.search(article_text or text) is not None
    around = text[max(0, start - exclusion.window) : end + exclusion.window]
    return exclusion.regex.search(around) is not None


def _in_context(category: Category, text: str) -> list[tuple[int, int, float, str]]:
    hits = []
    for pattern in category.patterns:
        for match in pattern.regex.finditer(text):
            start, end = match.span()
            if start == end:
                continue
            if pattern.context is not None:
                around = text[max(0, start - pattern.window) : end + pattern.window]
                if pattern.context.search(around) is None:
                    continue
            hits.append((start, end, pattern.confidence, pattern.id))
    return hits


def detect(provision: Provision, rules: Rules | None = None, *, article_text: str = "") -> list[Finding]:
    """The findings in one provision (none for a deleted one)."""
    rules = rules or default_rules()
    text = provision.text
    if provision.deleted or not text.strip():
        return []
    findings = []
    for category in rules.categories:
        exclusions = [e for e in rules.exclusions if category.id in e.categories] + list(category.exclusions)
        kept = [
            hit
            for hit in _in_context(category, text)
            if not any(_excluded(e, text, hit[0], hit[1], article_text) for e in exclusions)
        ]
        if not kept:
            continue
        start, end, confidence, rule = max(kept, key=lambda h: (h[2], -h[0]))
        findings.append(
            Finding(
                law_id=provision.law_id,
                address=provision.address,
                category=category.id,
                start=start,
                end=end,
                matched=text[start:end],
                confidence=round(confidence, 3),
                technology=category.technology,
                rule=rule,
            )
        )
    return findings


def detect_law(provisions: Iterable[Provision], rules: Rules | None = None) -> list[Finding]:
    """The findings in every provision, with each article's whole text as the context of article exclusions."""
    rules = rules or default_rules()
    provisions = list(provisions)
    articles: dict[tuple[str, str], list[str]] = defaultdict(list)
    for provision in provisions:
        articles[(provision.law_id, article_key(provision.address))].append(provision.text)
    findings: list[Finding] = []
    for provision in provisions:
        article_text = "\n".join(articles[(provision.law_id, article_key(provision.address))])
        findings.extend(detect(provision, rules, article_text=article_text))
    return findings

"""The English catalogue covers every message the templates translate with ``_("...")``."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest

from tsunagu.web.i18n import Translations

# _("...") or _('...'), not preceded by a name character or a dot (so ``data.get('x')`` is not a match).
MESSAGE = re.compile(r"""(?<![\w.])_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def template_dir() -> Path:
    return Path(str(resources.files("tsunagu.web") / "templates"))


def template_messages() -> dict[str, list[str]]:
    """Message id -> the templates that use it."""
    found: dict[str, list[str]] = {}
    for path in sorted(template_dir().rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for match in MESSAGE.finditer(text):
            message = match.group(1) if match.group(1) is not None else match.group(2)
            found.setdefault(message, []).append(str(path.relative_to(template_dir())))
    return found


@pytest.fixture(scope="module")
def english() -> dict[str, str]:
    return Translations.load().catalogs["en"]


def test_the_extractor_finds_the_messages() -> None:
    messages = template_messages()
    assert len(messages) > 50
    assert "行政手続を、デジタルでつなぐ。" in messages  # double quotes
    assert "表示言語" in messages  # single quotes
    assert "{name}の人口" in messages  # with values
    assert all(m for m in messages), "an empty message id"


def test_every_template_message_has_an_english_translation(english: dict[str, str]) -> None:
    missing = {m: where for m, where in template_messages().items() if m not in english}
    listing = "\n".join(f"  {m!r}  ({', '.join(sorted(set(w)))})" for m, w in sorted(missing.items()))
    assert not missing, (
        f"{len(missing)} template message(s) without an English translation; add them to "
        f"src/tsunagu/web/locales/en/LC_MESSAGES/messages.po:\n{listing}"
    )


def test_translations_keep_their_placeholders(english: dict[str, str]) -> None:
    wrong = [
        (m, t) for m, t in english.items() if sorted(PLACEHOLDER.findall(m)) != sorted(PLACEHOLDER.findall(t))
    ]
    assert not wrong, f"translations whose {{placeholders}} differ from the message id: {wrong}"

"""Japanese first, English second. Message ids are the Japanese text; the English catalogue is a .po file
read with Babel at start-up (no compiled .mo needed)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from babel.messages.pofile import read_po
from starlette.requests import Request

LANGUAGES = ("ja", "en")
LANG_COOKIE = "tsunagu_lang"


@dataclass(frozen=True)
class Translations:
    catalogs: dict[str, dict[str, str]]

    @classmethod
    def load(cls) -> Translations:
        catalogs: dict[str, dict[str, str]] = {"ja": {}}
        for lang in LANGUAGES[1:]:
            path = resources.files("tsunagu.web") / "locales" / lang / "LC_MESSAGES" / "messages.po"
            with path.open("rb") as fh:
                cat = read_po(fh, locale=lang)
            catalogs[lang] = {str(m.id): str(m.string) for m in cat if m.id and m.string and not m.fuzzy}
        return cls(catalogs)

    def gettext(self, lang: str, message: str) -> str:
        return self.catalogs.get(lang, {}).get(message) or message


def negotiate(request: Request, default: str) -> str:
    """Cookie set by the visible switch, then Accept-Language, then the installation default."""
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return str(chosen)
    header = request.headers.get("accept-language", "")
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        base = tag.strip().lower().split("-")[0]
        if base in LANGUAGES and q > 0:
            ranked.append((-q, i, base))
    return sorted(ranked)[0][2] if ranked else default

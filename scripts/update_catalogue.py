"""Extract every message id from the templates and update the English catalogue.

New ids are added with an empty translation (the architecture test then fails until someone translates them);
ids no longer used are marked obsolete. Run: python scripts/update_catalogue.py [--check]
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "src" / "tsunagu" / "web" / "templates"
CATALOGUE = ROOT / "src" / "tsunagu" / "web" / "locales" / "en" / "LC_MESSAGES" / "messages.po"


def extracted() -> Catalog:
    template = Catalog(project="tsunagu")
    method_map = [("**.html", "jinja2")]
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(TEMPLATES), method_map, keywords={"_": None}
    ):
        template.add(message, locations=[(f"templates/{filename}", lineno)])
    return template


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the catalogue would change")
    args = parser.parse_args()
    with CATALOGUE.open("rb") as fh:
        catalogue = read_po(fh, locale="en")
    created, revised = catalogue.creation_date, catalogue.revision_date
    catalogue.update(extracted(), no_fuzzy_matching=True)
    catalogue.creation_date, catalogue.revision_date = created, revised  # stable output: no churn
    out = io.BytesIO()
    write_po(out, catalogue, width=120, sort_output=True, omit_header=False, ignore_obsolete=True)
    new = out.getvalue()
    if args.check:
        sys.exit(0 if new == CATALOGUE.read_bytes() else 1)
    CATALOGUE.write_bytes(new)
    missing = [m.id for m in catalogue if m.id and not m.string]
    print(f"{len(catalogue)} messages; untranslated: {len(missing)}")
    for m in missing:
        print(f"  {m}")


if __name__ == "__main__":
    main()

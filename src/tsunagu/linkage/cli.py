"""``tsunagu linkage ...``: the participating agencies, the legal-basis table (別表), and checking a request
against it (these read the packaged data files and need no database); ``load`` and ``log`` (in
:mod:`tsunagu.linkage.exchange.cli`) and ``notices`` work on the platform's database."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tsunagu.clikit import emit, fail
from tsunagu.linkage import sources
from tsunagu.linkage.core.dictionary import CatalogueError
from tsunagu.linkage.core.legal_basis import LegalBasisRow, authorise
from tsunagu.linkage.exchange import cli as exchange_cli
from tsunagu.linkage.notices import cli as notices_cli

AsJson = Annotated[bool, typer.Option("--json", help="Print a JSON object instead of text.")]


def _row(row: LegalBasisRow) -> dict[str, Any]:
    return {
        "business": row.business,
        "business_name_ja": row.business_name_ja,
        "business_name_en": row.business_name_en,
        "requester_type": row.requester_type.value,
        "provider_type": row.provider_type.value,
        "items": sorted(row.items),
        "statute": row.statute,
        "verified": row.verified,
        "note": row.note,
    }


def _provider_type(value: str) -> str:
    """A provider given as an agency code (``JPS``) stands for its type; anything else is taken as a type."""
    by_code = {a.code: a.type.value for a in sources.agencies()}
    return by_code.get(value, value)


def build() -> typer.Typer:
    app = typer.Typer(
        help="Information linkage (情報連携): agencies, 符号 and the legal-basis table (別表).",
        no_args_is_help=True,
    )

    @app.command("agencies")
    def agencies(as_json: AsJson = False) -> None:
        """The participating agencies and the data items each kind provides."""
        found = sources.agencies()
        items = sources.dictionary()
        rows = [
            {
                "code": a.code,
                "type": a.type.value,
                "name_ja": a.name_ja,
                "name_en": a.name_en,
                "items": [i.code for i in items.provided_by(a.type)],
            }
            for a in found
        ]
        human = "\n".join(f"{r['code']:<14} {r['type']:<21} {r['name_ja']}  ({r['name_en']})" for r in rows)
        emit(as_json, {"ok": True, "agencies": rows}, human)

    @app.command("table")
    def table(as_json: AsJson = False) -> None:
        """The legal-basis table in force: version, effective date and rows."""
        loaded = sources.legal_basis()
        rows = [_row(r) for r in loaded.rows]
        head = (
            f"legal-basis table {loaded.version}, effective {loaded.effective.isoformat()}, {len(rows)} rows"
        )
        lines = [
            f"{r['business']:<18} {r['requester_type']:<13} ← {r['provider_type']:<21} "
            f"{' '.join(r['items'])}\n{'':<18} {r['statute']}{'' if r['verified'] else '  [unverified]'}"
            for r in rows
        ]
        data = {
            "ok": True,
            "version": loaded.version,
            "effective": loaded.effective.isoformat(),
            "digest": loaded.digest,
            "rows": rows,
        }
        emit(as_json, data, "\n".join([head, *lines]))

    @app.command("check")
    def check(
        requester_type: Annotated[str, typer.Option("--requester-type", help="e.g. municipality")],
        business: Annotated[
            str, typer.Option("--business", help="Business (事務) code, e.g. CHILD-ALLOWANCE-01")
        ],
        provider: Annotated[
            str, typer.Option("--provider", help="Provider type, or an agency code such as JPS")
        ],
        item: Annotated[list[str], typer.Option("--item", help="A data item code (repeat for several)")],
        as_json: AsJson = False,
    ) -> None:
        """Would the table permit this request? Exit 0 if permitted, 2 if refused (the reason names what is
        missing)."""
        try:
            loaded = sources.legal_basis()
        except CatalogueError as exc:
            fail(f"the legal-basis table is invalid: {exc}", as_json=as_json)
        decision = authorise(loaded, requester_type, business, _provider_type(provider), item)
        data = {
            "ok": True,
            "allowed": decision.allowed,
            "refusal": decision.refusal.value if decision.refusal else None,
            "reason": decision.reason,
            "reason_ja": decision.reason_ja,
            "missing": list(decision.missing),
            "permitted": list(decision.permitted),
            "statutes": list(decision.statutes),
            "table_version": loaded.version,
        }
        verdict = "permitted" if decision.allowed else f"refused ({decision.refusal})"
        emit(as_json, data, f"{verdict}: {decision.reason}\n{decision.reason_ja}")
        if not decision.allowed:
            raise typer.Exit(2)

    exchange_cli.register(app)
    app.add_typer(notices_cli.build(), name="notices")

    return app

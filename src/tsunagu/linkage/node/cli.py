"""``tsunagu node``: run an agency's node, or ask the hub as an agency (``tsunagu node ask``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from tsunagu.clikit import DATA_DIR_HELP, fail, settings_for
from tsunagu.db.engine import unit_of_work
from tsunagu.linkage.errors import ExchangeRefused
from tsunagu.linkage.exchange import requester
from tsunagu.linkage.node.app import Node, NodeError, run

AgencyOpt = Annotated[str | None, typer.Option("--agency", help="The agency code this node answers for.")]
HubOpt = Annotated[str | None, typer.Option("--hub", help="The hub's base URL, e.g. http://127.0.0.1:8000.")]
DataDir = Annotated[Path | None, typer.Option(help=DATA_DIR_HELP)]


def build() -> typer.Typer:
    app = typer.Typer(
        help="An agency's node: answers the hub's forwards from the agency's copy (副本).",
        invoke_without_command=True,
    )

    @app.callback()
    def node(
        ctx: typer.Context,
        agency: AgencyOpt = None,
        hub: HubOpt = None,
        host: str = "127.0.0.1",
        port: Annotated[int, typer.Option(min=0, max=65535, help="0: any free port.")] = 0,
        data_dir: DataDir = None,
        advertise: Annotated[
            str | None, typer.Option(help="The URL the hub should use (default: http://HOST:PORT).")
        ] = None,
        delay: Annotated[
            float, typer.Option(min=0, max=600, help="Seconds to wait before each answer (testing).")
        ] = 0.0,
    ) -> None:
        """Serve AGENCY's node and register it with the hub; prints one 'ready' line with its URL."""
        if ctx.invoked_subcommand is not None:
            return
        if not agency or not hub:
            fail("tsunagu node needs --agency CODE and --hub URL (or a sub-command: tsunagu node ask --help)")
        settings = settings_for(data_dir)
        try:
            run(Node.from_settings(settings, agency, delay=delay), hub, host, port, advertise)
        except NodeError as exc:
            fail(f"node {agency} could not start: {exc}")

    @app.command("ask")
    def ask(
        agency: Annotated[str, typer.Option("--agency", help="The requesting agency (signs the request).")],
        hub: Annotated[str, typer.Option("--hub", help="The hub's base URL.")],
        provider: Annotated[str, typer.Option(help="The agency asked.")],
        business: Annotated[str, typer.Option(help="The business (事務) code of the legal-basis table.")],
        item: Annotated[list[str], typer.Option(help="An item to ask for (repeat for several).")],
        code: Annotated[str, typer.Option(help="The requesting agency's code (符号) for the person.")],
        data_dir: DataDir = None,
    ) -> None:
        """Ask the hub for items about a person as AGENCY; print the verified reply as JSON (exit 2: refused)."""
        node = Node.from_settings(settings_for(data_dir), agency)
        request = requester.new_request(agency, provider, business, tuple(item), code, clock=node.clock)
        remote = requester.RemoteHub(hub)
        try:
            result = requester.ask(lambda: unit_of_work(node.sessions), node.ring, remote, request)
        except ExchangeRefused as refused:
            out = {"ok": False, "reason": refused.reason, "status": refused.status, "detail": refused.detail}
            sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
            raise typer.Exit(2) from None
        finally:
            remote.close()
        out = {
            "ok": True,
            "exchange_id": result.exchange_id,
            "request_id": result.request_id,
            "provider": result.provider,
            "items": {k: {"value": v.value, "disclose": v.disclose} for k, v in result.items.items()},
            "not_held": list(result.not_held),
            "log_index": result.log_index,
        }
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")

    return app

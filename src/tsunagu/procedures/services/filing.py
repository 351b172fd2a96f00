"""Submitting from the portal: the application, and for a life event's primary procedure, its one-stop bundle.

The one-stop's own rules (the moving window, the destination address, one open filing) are checked before any
write; the submission, the bundle, its sibling primaries and the outbox rows commit together."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tsunagu.kernel.access import CitizenPrincipal
from tsunagu.procedures.context import ProceduresContext
from tsunagu.procedures.core import forms
from tsunagu.procedures.core.catalogue import State
from tsunagu.procedures.models import Application
from tsunagu.procedures.services import applications as apps
from tsunagu.procedures.services import bundles, signatures


def preview(db: Session, pctx: ProceduresContext, me: CitizenPrincipal, app_id: int, raw: forms.Raw) -> bytes:
    """Validate the form (one-stop rules included) and return the bytes the signer will sign."""
    app = apps.own_application(db, me, app_id)
    apps._editable(app)
    values = apps.clean_values(db, pctx, app, raw)
    if app.procedure_id == "tenshutsu" and app.bundle_id is None:
        bundles.check_moving(db, pctx, app, values)
    return apps.signing_input(app, values)


def submit(
    db: Session,
    pctx: ProceduresContext,
    me: CitizenPrincipal,
    app_id: int,
    raw: forms.Raw | None = None,
    *,
    signed: signatures.Signed | None = None,
) -> Application:
    """Submit (``raw`` ``None``: the values saved in the draft), opening the one-stop of a primary procedure."""
    app = apps.own_application(db, me, app_id, for_update=True)
    if app.procedure_id == "tenshutsu" and app.bundle_id is None and State(app.state) in apps.EDITABLE:
        form = raw if raw is not None else apps.raw_from_values(app.values)
        bundles.check_moving(db, pctx, app, apps.clean_values(db, pctx, app, form))
    app = apps.submit_loaded(db, pctx, me, app, raw, signed=signed)
    if (
        app.state == State.SUBMITTED.value
        and app.bundle_id is None
        and app.procedure_id in bundles.PRIMARY_OF
    ):
        bundles.open_bundle(db, pctx, app)
    return app

"""What the SD-JWT VCs hear from the registry (wired by the shell in ``wiring.registry_listeners``): a recorded
death revokes every credential of the person (status 1), in the same transaction as the event."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from tsunagu.credentials.services.sdjwt_issuance import revoke_for_person
from tsunagu.registry import api as registry_api


def registry_listener() -> Callable[[Session, registry_api.RegistryChange], None]:
    def on_registry_change(db: Session, change: registry_api.RegistryChange) -> None:
        if change.kind == registry_api.EventKind.DEATH:
            revoke_for_person(db, change.person_id, reason="deceased", by="registry", now=change.recorded_at)

    return on_registry_change

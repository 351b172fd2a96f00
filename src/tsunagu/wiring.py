"""How the domains hear of each other, wired in one place by the shell (the domains know only their own api):
the registry's recorded events reach identity (certificate revocation on a 転居, a death, a move out)."""

from __future__ import annotations

from collections.abc import Sequence

from tsunagu.identity import api as identity_api
from tsunagu.kernel.clock import Clock
from tsunagu.pki import api as pki_api
from tsunagu.registry import api as registry_api
from tsunagu.settings import Settings


def registry_listeners(
    settings: Settings, clock: Clock, trust: pki_api.TrustServices | None = None
) -> Sequence[registry_api.ChangeListener]:
    trust = trust or pki_api.trust_services(settings, clock)
    cards = identity_api.card_context(settings, clock, trust)
    return [identity_api.registry_listener(trust, cards.keys)]

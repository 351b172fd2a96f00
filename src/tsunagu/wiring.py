"""How the domains hear of each other, wired in one place by the shell (the domains know only their own api):
the registry's recorded events reach identity (certificate revocation on a 転居, a death, a move out); a corrected
vaccination dose reaches credentials (its SMART Health Cards are revoked)."""

from __future__ import annotations

from collections.abc import Sequence

from tsunagu.credentials.context import CredentialsContext, credentials_context
from tsunagu.credentials.services import revocation as shc_revocation
from tsunagu.credentials.services import sdjwt_events
from tsunagu.db.engine import make_engine, make_session_factory
from tsunagu.health import api as health_api
from tsunagu.identity import api as identity_api
from tsunagu.kernel.clock import Clock
from tsunagu.linkage import api as linkage_api
from tsunagu.payments import api as payments_api
from tsunagu.pki import api as pki_api
from tsunagu.registry import api as registry_api
from tsunagu.settings import Settings


def registry_listeners(
    settings: Settings, clock: Clock, trust: pki_api.TrustServices | None = None
) -> Sequence[registry_api.ChangeListener]:
    trust = trust or pki_api.trust_services(settings, clock)
    cards = identity_api.card_context(settings, clock, trust)
    return [identity_api.registry_listener(trust, cards.keys), sdjwt_events.registry_listener()]


def dose_listeners(credentials: CredentialsContext) -> Sequence[health_api.DoseListener]:
    """A corrected dose revokes the SMART Health Cards that showed the old entry (health knows no credentials)."""
    return [shc_revocation.dose_listener(credentials)]


def cli_dose_listeners(settings: Settings) -> Sequence[health_api.DoseListener]:
    """The dose listeners of a command-line run (``tsunagu health doses record|correct``)."""
    return dose_listeners(credentials_context(settings, Clock()))


def payments_context(settings: Settings) -> payments_api.PaymentsContext:
    """The payments context for a command-line run: the hub over the data directory's database (the app builds
    its own in ``create_app``)."""
    clock = Clock()
    trust = pki_api.trust_services(settings, clock)
    sessions = make_session_factory(make_engine(settings))
    platform = linkage_api.build_exchange(sessions, trust, linkage_api.linkage_keys(settings), clock=clock)
    return payments_api.payments_context(settings, clock, platform)

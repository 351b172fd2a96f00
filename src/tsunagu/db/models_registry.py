"""Imports every domain's models so the one metadata is complete (for Alembic and the schema tests)."""

from __future__ import annotations

from tsunagu.audit import models as _audit  # noqa: F401
from tsunagu.credentials import models as _credentials  # noqa: F401
from tsunagu.credentials import models_sdjwt as _credentials_sdjwt  # noqa: F401
from tsunagu.db import meta as _meta  # noqa: F401
from tsunagu.db.base import Base
from tsunagu.health import models as _health  # noqa: F401
from tsunagu.identity import models as _identity  # noqa: F401
from tsunagu.identity.cardlogin import models as _identity_cardlogin  # noqa: F401
from tsunagu.identity.cards import models as _identity_cards  # noqa: F401
from tsunagu.identity.citizen import models as _identity_citizen  # noqa: F401
from tsunagu.identity.oidc import models as _identity_oidc  # noqa: F401
from tsunagu.identity.passkeys import models as _identity_passkeys  # noqa: F401
from tsunagu.identity.proxies import models as _identity_proxies  # noqa: F401
from tsunagu.laws import models as _laws  # noqa: F401
from tsunagu.linkage import models as _linkage  # noqa: F401
from tsunagu.linkage.exchange import models as _linkage_exchange  # noqa: F401
from tsunagu.linkage.log import models as _linkage_log  # noqa: F401
from tsunagu.linkage.notices import models as _linkage_notices  # noqa: F401
from tsunagu.payments import models as _payments  # noqa: F401
from tsunagu.pki import models as _pki  # noqa: F401
from tsunagu.procedures import models as _procedures  # noqa: F401
from tsunagu.registry import models as _registry  # noqa: F401

metadata = Base.metadata

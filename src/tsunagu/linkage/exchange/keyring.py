"""Keys the exchange signs and verifies with, cached briefly.

Verification keys come from each agency's live AGENCY certificate (``services.verification_key``); a revoked or
expired certificate stops an agency within ``ttl`` seconds. Signing keys are those the hub holds sealed: its own
(agency ``HUB``) and those of agencies that run in-process. A node process holds its own key the same way (it
opens the sealed key with the platform's master secret); a deployment where an agency keeps its key in its own
HSM replaces :meth:`KeyRing.signing_key`."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy.orm import Session

from tsunagu.linkage import services
from tsunagu.linkage.keys import LinkageKeys
from tsunagu.pki import api as pki

HUB = "HUB"  # the hub's own agency code (it signs forwards and replies)
DEFAULT_TTL = 60.0


class KeyRing:
    def __init__(
        self,
        trust: pki.TrustServices,
        keys: LinkageKeys,
        *,
        ttl: float = DEFAULT_TTL,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.trust = trust
        self.keys = keys
        self.ttl = ttl
        self._monotonic = monotonic
        self._public: dict[str, tuple[float, ec.EllipticCurvePublicKey]] = {}
        self._private: dict[str, ec.EllipticCurvePrivateKey] = {}
        self._agencies: dict[str, tuple[float, services.AgencyInfo]] = {}
        self._lock = threading.Lock()

    def verification_key(self, db: Session, agency: str) -> ec.EllipticCurvePublicKey:
        now = self._monotonic()
        with self._lock:
            cached = self._public.get(agency)
        if cached is not None and now - cached[0] < self.ttl:
            return cached[1]
        key = services.verification_key(db, self.trust, agency)
        with self._lock:
            self._public[agency] = (now, key)
        return key

    def agency(self, db: Session, agency: str) -> services.AgencyInfo:
        """The agency's id, type and active flag (raises :class:`UnknownAgency`); cached for ``ttl`` seconds."""
        now = self._monotonic()
        with self._lock:
            cached = self._agencies.get(agency)
        if cached is not None and now - cached[0] < self.ttl:
            return cached[1]
        info = services.agency_info(db, agency)
        with self._lock:
            self._agencies[agency] = (now, info)
        return info

    def cached_signing_key(self, agency: str) -> ec.EllipticCurvePrivateKey | None:
        with self._lock:
            return self._private.get(agency)

    def signing_key(self, db: Session, agency: str) -> ec.EllipticCurvePrivateKey:
        with self._lock:
            cached = self._private.get(agency)
        if cached is not None:
            return cached
        key = services.signing_key(db, self.keys, agency)
        with self._lock:
            self._private[agency] = key
        return key

    def forget(self, agency: str | None = None) -> None:
        """Drop cached keys (all, or one agency's): after a revocation or a key change."""
        with self._lock:
            if agency is None:
                self._public.clear()
                self._private.clear()
                self._agencies.clear()
            else:
                self._public.pop(agency, None)
                self._private.pop(agency, None)
                self._agencies.pop(agency, None)

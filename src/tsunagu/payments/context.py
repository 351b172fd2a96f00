"""What the payments services need from the rest of the platform, built once by the shell (app or CLI)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session

from tsunagu.kernel.clock import Clock
from tsunagu.linkage import api as linkage
from tsunagu.payments import master as zmaster
from tsunagu.registry import api as registry
from tsunagu.settings import Settings

CODE_CACHE_SIZE = 100_000
REGISTRY_AGENCY = "DA-KOKIN"  # the Digital Agency's account registry on the hub


@dataclass
class PaymentsContext:
    settings: Settings
    clock: Clock
    platform: linkage.ExchangePlatform  # the hub: agencies look accounts up through it
    keys: linkage.LinkageKeys
    master_dir: Path | None = None  # the zengin-code master; None: the installed zengin-code package's
    _master: zmaster.Master | None = field(default=None, repr=False)
    _registry: registry.RegistryContext | None = field(default=None, repr=False)
    _codes: dict[tuple[str, int], str] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def code_for(self, db: Session, agency: str, person_id: int) -> str:
        """The agency's 符号 for the person (issued by the hub on first use). A code never changes once issued, so
        this process remembers it once it is committed."""
        key = (agency, person_id)
        with self._lock:
            found = self._codes.get(key)
        if found is not None:
            return found
        code = linkage.code_for(db, self.keys, agency, person_id, clock=self.clock)

        def remember(_session: Session) -> None:
            with self._lock:
                if len(self._codes) >= CODE_CACHE_SIZE:
                    self._codes.clear()
                self._codes[key] = code

        event.listen(db, "after_commit", remember, once=True)
        return code

    def master(self) -> zmaster.Master:
        """The bank and branch master, read once (branches per bank as they are asked for)."""
        with self._lock:
            if self._master is None:
                self._master = zmaster.load(self.master_dir)
            return self._master

    def person_by_my_number(self, db: Session, my_number: str) -> int | None:
        """The registry person id of a My Number (through the registry's blind index), or None if nobody has it;
        a malformed number raises ``InvalidIdentifier``. For the bank counter; the number is not kept."""
        with self._lock:
            if self._registry is None:
                self._registry = registry.registry_context(self.settings, self.clock)
            keys = self._registry.keys
        return registry.person_ids_by_my_number(db, keys, [my_number]).get(my_number)

    @property
    def home_lg(self) -> str:
        return self.settings.municipality_code


def payments_context(settings: Settings, clock: Clock, platform: linkage.ExchangePlatform) -> PaymentsContext:
    return PaymentsContext(
        settings, clock, platform, linkage.linkage_keys(settings), master_dir=settings.payments_master_dir
    )

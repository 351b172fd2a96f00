"""What the procedures services need from the rest of the platform, built once by the shell (app or CLI)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.orm import Session

from tsunagu.identity import api as identity
from tsunagu.kernel.clock import Clock
from tsunagu.linkage import api as linkage
from tsunagu.registry import api as registry
from tsunagu.settings import Settings

CODE_CACHE_SIZE = 100_000


@dataclass
class ProceduresContext:
    settings: Settings
    clock: Clock
    platform: linkage.ExchangePlatform  # the hub: pre-fill exchanges, agency keys for receipts
    keys: linkage.LinkageKeys
    cards: identity.CardContext  # the chips (demo reader) and the trust services (signature checks)
    registry_for: Callable[
        [str], registry.RegistryContext
    ]  # a municipality's registry context, with listeners
    _codes: dict[tuple[str, int], str] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def code_for(self, db: Session, agency: str, person_id: int) -> str:
        """The agency's 符号 for the person (issued by the hub on first use). A code never changes once issued, so
        this process remembers it: one query less per notice."""
        key = (agency, person_id)
        with self._lock:
            found = self._codes.get(key)
        if found is not None:
            return found
        code = linkage.code_for(db, self.keys, agency, person_id, clock=self.clock)

        def remember(_session: Session) -> None:  # only once the code (possibly issued just now) is committed
            with self._lock:
                if len(self._codes) >= CODE_CACHE_SIZE:
                    self._codes.clear()
                self._codes[key] = code

        event.listen(db, "after_commit", remember, once=True)
        return code

    @property
    def home_lg(self) -> str:
        return self.settings.municipality_code


def procedures_context(
    settings: Settings,
    clock: Clock,
    platform: linkage.ExchangePlatform,
    cards: identity.CardContext,
    listeners: Sequence[registry.ChangeListener] = (),
) -> ProceduresContext:
    contexts: dict[str, registry.RegistryContext] = {}

    def registry_for(lg_code: str) -> registry.RegistryContext:
        if lg_code not in contexts:
            contexts[lg_code] = registry.registry_context(
                settings, clock, listeners, municipality_code=lg_code
            )
        return contexts[lg_code]

    return ProceduresContext(settings, clock, platform, linkage.linkage_keys(settings), cards, registry_for)

"""What the procedures services need from the rest of the platform, built once by the shell (app or CLI)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tsunagu.identity import api as identity
from tsunagu.kernel.clock import Clock
from tsunagu.linkage import api as linkage
from tsunagu.registry import api as registry
from tsunagu.settings import Settings


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

"""Permissions (``scope:resource:action``) and the access declaration every route carries."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Permission(StrEnum):
    REGISTRY_PERSON_READ = "registry:person:read"
    REGISTRY_PERSON_WRITE = "registry:person:write"
    REGISTRY_SUPPRESSED_ADDRESS_READ = "registry:suppressed_address:read"  # 支援措置対象者の住所
    REGISTRY_DATA_EXPORT = "registry:data:export"
    REGISTRY_DATA_IMPORT = "registry:data:import"
    REGISTRY_STATS_READ = "registry:stats:read"
    AUDIT_LOG_READ = "audit:log:read"


@dataclass(frozen=True)
class Access:
    """Who may call a route: ``public`` (anyone), ``staff`` (any logged-in staff) or staff holding ``permission``."""

    kind: str
    permission: Permission | None = None

    @classmethod
    def public(cls) -> Access:
        return cls("public")

    @classmethod
    def staff(cls, permission: Permission | None = None) -> Access:
        return cls("staff", permission)


@dataclass(frozen=True)
class Principal:
    """The caller, as far as access control is concerned."""

    staff_id: int
    username: str
    display_name: str
    permissions: frozenset[Permission]
    session_id_hash: str | None = None

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

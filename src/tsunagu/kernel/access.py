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
    IDENTITY_CARD_READ = "identity:card:read"  # see a resident's card status at the counter
    IDENTITY_CARD_WRITE = "identity:card:write"  # issue, reissue, report lost, suspend and restore cards
    IDENTITY_PIN_RESET = "identity:pin:reset"  # 暗証番号の初期化 at the counter (after a photo-ID check)
    PKI_CERTIFICATE_STATUS_READ = "pki:certificate_status:read"  # registered verifiers (署名検証者) only
    PROCEDURES_APPLICATION_PROCESS = (
        "procedures:application:process"  # work an office's queue (審査・決定・完了)
    )
    PROCEDURES_OUTBOX_MANAGE = "procedures:outbox:manage"  # see and retry the one-stops' dead letters
    PROCEDURES_METRICS_READ = "procedures:metrics:read"  # online rate, prefill ratio, times
    PAYMENTS_RUN_MANAGE = "payments:run:manage"  # 給付担当: entitle, notify, run, import bank results
    PAYMENTS_ACCOUNT_COUNTER = "payments:account:counter"  # 金融機関窓口: register accounts held at that bank
    HEALTH_DOSE_READ = "health:dose:read"  # 予防接種担当: see a resident's vaccination record
    HEALTH_DOSE_WRITE = "health:dose:write"  # 予防接種担当: record and correct doses
    LAWS_REVIEW_READ = "laws:review:read"  # 法令見直し担当: see review items, counts and reports
    LAWS_REVIEW_WRITE = "laws:review:write"  # 法令見直し担当: move items through the review workflow
    LAWS_DOCUMENT_IMPORT = "laws:document:import"  # 法令見直し担当: import law XML


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

    @classmethod
    def citizen(cls) -> Access:
        """A resident logged in with the card or a passkey (possibly acting for someone as a proxy)."""
        return cls("citizen")

    @classmethod
    def oauth_client(cls) -> Access:
        """An OAuth/OIDC relying party; the handler authenticates it (client credentials or access token,
        RFC 6749 / RFC 6750) because the protocol defines how."""
        return cls("oauth_client")

    @classmethod
    def signed_message(cls) -> Access:
        """A program exchanging signed messages (the linkage hub and its nodes): open at the HTTP level, because
        the handler authenticates every message by its signature (JWS by a certified agency key), as X-Road's
        message-level security does; no cookie or bearer token is read."""
        return cls("signed_message")


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


@dataclass(frozen=True)
class CitizenPrincipal:
    """A resident logged in to the portal. ``person_id`` is who logged in; ``acting_for`` is the person they act
    for as a proxy (代理人), or ``None`` when acting for themselves."""

    person_id: int
    display_name: str
    method: str  # "card", "passkey" or "qr" (2D-code login completed on a phone)
    acr: str  # authentication context class reference sent to relying parties
    auth_time: int  # Unix time of the authentication
    session_id_hash: str
    acting_for: int | None = None
    acting_for_name: str | None = None

    @property
    def subject_person_id(self) -> int:
        """Whose data and procedures the current request is about."""
        return self.acting_for if self.acting_for is not None else self.person_id

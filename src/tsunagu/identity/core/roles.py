"""Staff roles and the permissions each grants (least privilege: only the registry clerk sees suppressed
addresses)."""

from __future__ import annotations

from enum import StrEnum

from tsunagu.kernel.access import Permission

P = Permission


class Role(StrEnum):
    REGISTRY_CLERK = "registry_clerk"  # 住民記録担当: records movements, handles 支援措置
    COUNTER_STAFF = "counter_staff"  # 窓口担当: looks residents up, cannot see suppressed addresses
    STATISTICIAN = "statistician"  # 統計担当: aggregate figures only
    AUDITOR = "auditor"  # 監査担当: reads the audit trail, sees no resident data


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.REGISTRY_CLERK: frozenset(
        {
            P.REGISTRY_PERSON_READ,
            P.REGISTRY_PERSON_WRITE,
            P.REGISTRY_SUPPRESSED_ADDRESS_READ,
            P.REGISTRY_DATA_EXPORT,
            P.REGISTRY_DATA_IMPORT,
            P.REGISTRY_STATS_READ,
        },
    ),
    Role.COUNTER_STAFF: frozenset({P.REGISTRY_PERSON_READ, P.REGISTRY_STATS_READ}),
    Role.STATISTICIAN: frozenset({P.REGISTRY_STATS_READ}),
    Role.AUDITOR: frozenset({P.AUDIT_LOG_READ}),
}


def permissions_for(roles: list[Role]) -> frozenset[Permission]:
    out: set[Permission] = set()
    for role in roles:
        out |= ROLE_PERMISSIONS[role]
    return frozenset(out)

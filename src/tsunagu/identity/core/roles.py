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
    CARD_DESK = "card_desk"  # マイナンバーカード交付窓口: issues cards, resets PINs, restores suspended cards
    VERIFIER = "verifier"  # 署名検証者 / 利用者証明検証者: may ask the online certificate-status service
    BENEFITS_OFFICER = "benefits_officer"  # 給付担当: benefit programmes, payment runs, bank results
    BANK_COUNTER = (
        "bank_counter"  # 金融機関の窓口: registers public-fund accounts held at its bank (pay_bank_staff)
    )
    HEALTH_OFFICER = "health_officer"  # 予防接種担当: finds residents, records and corrects vaccination doses
    LAW_REVIEWER = "law_reviewer"  # 法令見直し担当: imports laws, reviews analog-regulation findings


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.REGISTRY_CLERK: frozenset(
        {
            P.REGISTRY_PERSON_READ,
            P.REGISTRY_PERSON_WRITE,
            P.REGISTRY_SUPPRESSED_ADDRESS_READ,
            P.REGISTRY_DATA_EXPORT,
            P.REGISTRY_DATA_IMPORT,
            P.REGISTRY_STATS_READ,
            P.PROCEDURES_APPLICATION_PROCESS,
            P.PROCEDURES_OUTBOX_MANAGE,
            P.PROCEDURES_METRICS_READ,
        },
    ),
    Role.COUNTER_STAFF: frozenset(
        {P.REGISTRY_PERSON_READ, P.REGISTRY_STATS_READ, P.PROCEDURES_APPLICATION_PROCESS}
    ),
    Role.STATISTICIAN: frozenset({P.REGISTRY_STATS_READ, P.PROCEDURES_METRICS_READ}),
    Role.AUDITOR: frozenset({P.AUDIT_LOG_READ}),
    Role.CARD_DESK: frozenset(
        {P.REGISTRY_PERSON_READ, P.IDENTITY_CARD_READ, P.IDENTITY_CARD_WRITE, P.IDENTITY_PIN_RESET}
    ),
    Role.VERIFIER: frozenset({P.PKI_CERTIFICATE_STATUS_READ}),
    Role.BENEFITS_OFFICER: frozenset({P.PAYMENTS_RUN_MANAGE}),
    Role.BANK_COUNTER: frozenset({P.PAYMENTS_ACCOUNT_COUNTER}),
    Role.HEALTH_OFFICER: frozenset({P.REGISTRY_PERSON_READ, P.HEALTH_DOSE_READ, P.HEALTH_DOSE_WRITE}),
    Role.LAW_REVIEWER: frozenset({P.LAWS_REVIEW_READ, P.LAWS_REVIEW_WRITE, P.LAWS_DOCUMENT_IMPORT}),
}


def permissions_for(roles: list[Role]) -> frozenset[Permission]:
    out: set[Permission] = set()
    for role in roles:
        out |= ROLE_PERMISSIONS[role]
    return frozenset(out)

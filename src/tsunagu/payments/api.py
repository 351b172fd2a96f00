"""Public interface of the payments domain (the only module other packages may import): the public-fund account
registry, benefit programmes and payment runs with Zengin files."""

from __future__ import annotations

from tsunagu.payments.context import REGISTRY_AGENCY, PaymentsContext, payments_context
from tsunagu.payments.core.calendar import is_business_day, next_business_day
from tsunagu.payments.core.programmes import Programme, ProgrammeError
from tsunagu.payments.core.results import MirrorReader, ResultCode, ResultReader
from tsunagu.payments.core.runspec import Remitter, RemittingBank, RunSpec
from tsunagu.payments.services.accounts import AccountInput, registry_holder_kana
from tsunagu.payments.services.accounts import Actor as AccountActor
from tsunagu.payments.services.accounts import save as save_account
from tsunagu.payments.services.bank_simulator import simulate_bank
from tsunagu.payments.services.bank_staff import set_bank as set_bank_staff
from tsunagu.payments.services.entitlements import (
    Due,
    Entitled,
    EntitlementClosed,
    EntitlementNotFound,
    EntitlementView,
    confirm,
    decline,
    due_for_payment,
    entitle,
    entitlement_of,
    entitlements_of,
    lapse,
)
from tsunagu.payments.services.files import RunFileMismatch, RunRefused, WrittenFile
from tsunagu.payments.services.lookups import Looked, lookup
from tsunagu.payments.services.notify import Notified, notify
from tsunagu.payments.services.reconcile import Report as ReconciliationReport
from tsunagu.payments.services.reconcile import reconcile
from tsunagu.payments.services.results import ImportReport, ResultFileRefused, import_results, run_of
from tsunagu.payments.services.runs import RunReport, retry, run
from tsunagu.payments.sources import UnknownProgramme, programme, programmes

__all__ = [
    "REGISTRY_AGENCY",
    "AccountActor",
    "AccountInput",
    "Due",
    "Entitled",
    "EntitlementClosed",
    "EntitlementNotFound",
    "EntitlementView",
    "ImportReport",
    "Looked",
    "MirrorReader",
    "Notified",
    "PaymentsContext",
    "Programme",
    "ProgrammeError",
    "ReconciliationReport",
    "Remitter",
    "RemittingBank",
    "ResultCode",
    "ResultFileRefused",
    "ResultReader",
    "RunFileMismatch",
    "RunRefused",
    "RunReport",
    "RunSpec",
    "UnknownProgramme",
    "WrittenFile",
    "confirm",
    "decline",
    "due_for_payment",
    "entitle",
    "entitlement_of",
    "entitlements_of",
    "import_results",
    "is_business_day",
    "lapse",
    "lookup",
    "next_business_day",
    "notify",
    "payments_context",
    "programme",
    "programmes",
    "reconcile",
    "registry_holder_kana",
    "retry",
    "run",
    "run_of",
    "save_account",
    "set_bank_staff",
    "simulate_bank",
]

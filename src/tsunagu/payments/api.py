"""Public interface of the payments domain (the only module other packages may import): the public-fund account
registry, benefit programmes and payment runs with Zengin files."""

from __future__ import annotations

from tsunagu.payments.context import REGISTRY_AGENCY, PaymentsContext, payments_context
from tsunagu.payments.core.calendar import is_business_day, next_business_day
from tsunagu.payments.core.results import MirrorReader, ResultCode, ResultReader
from tsunagu.payments.core.runspec import Remitter, RemittingBank, RunSpec
from tsunagu.payments.services.bank_simulator import simulate_bank
from tsunagu.payments.services.files import RunFileMismatch, RunRefused, WrittenFile
from tsunagu.payments.services.reconcile import Report as ReconciliationReport
from tsunagu.payments.services.reconcile import reconcile
from tsunagu.payments.services.results import ImportReport, ResultFileRefused, import_results, run_of
from tsunagu.payments.services.runs import RunReport, retry, run

__all__ = [
    "REGISTRY_AGENCY",
    "ImportReport",
    "MirrorReader",
    "PaymentsContext",
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
    "WrittenFile",
    "import_results",
    "is_business_day",
    "next_business_day",
    "payments_context",
    "reconcile",
    "retry",
    "run",
    "run_of",
    "simulate_bank",
]

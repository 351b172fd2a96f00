"""Audit action names, with the fixed grammar ``scope:resource:action``."""

from __future__ import annotations

from enum import StrEnum


class AuditAction(StrEnum):
    STAFF_LOGIN_SUCCEEDED = "identity:session:login"
    STAFF_LOGIN_FAILED = "identity:session:login_failed"
    STAFF_LOGOUT = "identity:session:logout"
    RESIDENT_VIEWED = "registry:person:view"
    RESIDENTS_SEARCHED = "registry:person:search"
    HOUSEHOLD_VIEWED = "registry:household:view"
    EVENT_RECORDED = "registry:event:record"
    RESIDENT_REGISTERED = "registry:person:register"
    SUPPORT_MEASURE_SET = "registry:support_measure:set"
    RESIDENTS_EXPORTED = "registry:data:export"
    RESIDENTS_IMPORTED = "registry:data:import"

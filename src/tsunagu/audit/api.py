"""Public interface of the audit domain (the only module other packages may import)."""

from tsunagu.audit.actions import AuditAction
from tsunagu.audit.services import EntryView, entries, record

__all__ = ["AuditAction", "EntryView", "entries", "record"]

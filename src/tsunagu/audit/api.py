"""Public interface of the audit domain (the only module other packages may import)."""

from tsunagu.audit.actions import AuditAction
from tsunagu.audit.services import EntryView, citizen_actor, entries, record, record_citizen

__all__ = ["AuditAction", "EntryView", "citizen_actor", "entries", "record", "record_citizen"]

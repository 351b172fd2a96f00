"""Public interface of the linkage domain (the only module other packages may import).

The hub gives each agency its own opaque code (符号) per person; agencies never see a My Number or a registry
person id. Requests between agencies are checked against the legal-basis table (別表)."""

from __future__ import annotations

from tsunagu.linkage.core.dictionary import AgencyEntry, AgencyType, DataItem, Dictionary
from tsunagu.linkage.core.legal_basis import Decision, LegalBasisRow, LegalBasisTable, RefusalKind, authorise
from tsunagu.linkage.errors import (
    AgencyInactive,
    NotPermittedByLegalBasis,
    TableVersionConflict,
    UnknownAgency,
    UnknownCode,
)
from tsunagu.linkage.keys import LinkageKeys
from tsunagu.linkage.services import (
    AgencyKeyRecord,
    AgencyView,
    LoadedTable,
    LoadResult,
    code_for,
    list_agencies,
    load_agencies,
    load_legal_basis,
    loaded_versions,
    person_for,
    provision_agency_certificate,
    require_legal_basis,
    translate,
)
from tsunagu.linkage.sources import agencies, dictionary, legal_basis
from tsunagu.settings import Settings


def linkage_keys(settings: Settings) -> LinkageKeys:
    """The hub's keys for this platform (derived from the master secret)."""
    return LinkageKeys.from_master(settings.master_secret())


__all__ = [
    "AgencyEntry",
    "AgencyInactive",
    "AgencyKeyRecord",
    "AgencyType",
    "AgencyView",
    "DataItem",
    "Decision",
    "Dictionary",
    "LegalBasisRow",
    "LegalBasisTable",
    "LinkageKeys",
    "LoadResult",
    "LoadedTable",
    "NotPermittedByLegalBasis",
    "RefusalKind",
    "TableVersionConflict",
    "UnknownAgency",
    "UnknownCode",
    "agencies",
    "authorise",
    "code_for",
    "dictionary",
    "legal_basis",
    "linkage_keys",
    "list_agencies",
    "load_agencies",
    "load_legal_basis",
    "loaded_versions",
    "person_for",
    "provision_agency_certificate",
    "require_legal_basis",
    "translate",
]

"""Public interface of the linkage domain (the only module other packages may import).

The hub gives each agency its own opaque code (符号) per person; agencies never see a My Number or a registry
person id. Requests between agencies are checked against the legal-basis table (別表)."""

from __future__ import annotations

from tsunagu.linkage.core.dictionary import AgencyEntry, AgencyType, DataItem, Dictionary
from tsunagu.linkage.core.legal_basis import Decision, LegalBasisRow, LegalBasisTable, RefusalKind, authorise
from tsunagu.linkage.core.messages import InvalidMessage, ItemValue, Reason, Request
from tsunagu.linkage.documents import InvalidDocument, sign_document, verify_document
from tsunagu.linkage.errors import (
    AgencyCertificateInvalid,
    AgencyInactive,
    ExchangeRefused,
    NotPermittedByLegalBasis,
    TableVersionConflict,
    UnknownAgency,
    UnknownCode,
)
from tsunagu.linkage.exchange.history import ExchangeView, exchanges_about, inclusion_proof_for
from tsunagu.linkage.exchange.hub import Hub, run_exchange, run_exchanges
from tsunagu.linkage.exchange.keyring import HUB, KeyRing
from tsunagu.linkage.exchange.platform import ExchangePlatform, provision_all
from tsunagu.linkage.exchange.platform import build as build_exchange
from tsunagu.linkage.exchange.provider import PROVIDER, REQUESTER, answer, drop_copy, put_copy
from tsunagu.linkage.exchange.requester import (
    HubClient,
    LocalHub,
    RemoteHub,
    Result,
    accept_replies,
    accept_reply,
    ask,
    ask_many,
    new_request,
)
from tsunagu.linkage.exchange.transport import (
    InProcess,
    OverHttp,
    ProviderTransport,
    ProviderUnavailable,
    Routed,
)
from tsunagu.linkage.keys import LinkageKeys
from tsunagu.linkage.log.signer import LogSigner
from tsunagu.linkage.notices import (
    NoticeNotFound,
    NoticeSent,
    NoticeView,
    inbox,
    mark_read,
    notice_for,
    seed_demo_notices,
    send_to_code,
    send_to_segment,
    unread_count,
)
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
    "HUB",
    "PROVIDER",
    "REQUESTER",
    "AgencyCertificateInvalid",
    "AgencyEntry",
    "AgencyInactive",
    "AgencyKeyRecord",
    "AgencyType",
    "AgencyView",
    "DataItem",
    "Decision",
    "Dictionary",
    "ExchangePlatform",
    "ExchangeRefused",
    "ExchangeView",
    "Hub",
    "HubClient",
    "InProcess",
    "InvalidDocument",
    "InvalidMessage",
    "ItemValue",
    "KeyRing",
    "LegalBasisRow",
    "LegalBasisTable",
    "LinkageKeys",
    "LoadResult",
    "LoadedTable",
    "LocalHub",
    "LogSigner",
    "NotPermittedByLegalBasis",
    "NoticeNotFound",
    "NoticeSent",
    "NoticeView",
    "OverHttp",
    "ProviderTransport",
    "ProviderUnavailable",
    "Reason",
    "RefusalKind",
    "RemoteHub",
    "Request",
    "Result",
    "Routed",
    "TableVersionConflict",
    "UnknownAgency",
    "UnknownCode",
    "accept_replies",
    "accept_reply",
    "agencies",
    "answer",
    "ask",
    "ask_many",
    "authorise",
    "build_exchange",
    "code_for",
    "dictionary",
    "drop_copy",
    "exchanges_about",
    "inbox",
    "inclusion_proof_for",
    "legal_basis",
    "linkage_keys",
    "list_agencies",
    "load_agencies",
    "load_legal_basis",
    "loaded_versions",
    "mark_read",
    "new_request",
    "notice_for",
    "person_for",
    "provision_agency_certificate",
    "provision_all",
    "put_copy",
    "require_legal_basis",
    "run_exchange",
    "run_exchanges",
    "seed_demo_notices",
    "send_to_code",
    "send_to_segment",
    "sign_document",
    "translate",
    "unread_count",
    "verify_document",
]

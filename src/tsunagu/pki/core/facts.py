"""The basic 4 facts (基本4情報) in a 署名用 certificate: subjectAltName ``otherName`` entries under J-LIS's arc
``1.2.392.200149.8.5.5``, each value a UTF8String (see :mod:`tsunagu.pki.core.profiles` for the sources).

Pure: no I/O. The UTF8String encoder/decoder is the only ASN.1 written here (``cryptography`` takes an
``otherName`` value as the DER of the inner type and has no public encoder for a bare UTF8String)."""

from __future__ import annotations

import datetime as dt
from typing import Final

from cryptography import x509

from tsunagu.kernel.wareki import era_of
from tsunagu.pki.core.types import CertificateKind, SubjectFacts

# J-LIS personal-data arc (jpki-personalData) and its members, as on real 署名用電子証明書.
JPKI_PERSONAL_DATA: Final = "1.2.392.200149.8.5.5"
OID_NAME: Final = x509.ObjectIdentifier(f"{JPKI_PERSONAL_DATA}.1")
OID_NAME_SUBSTITUTES: Final = x509.ObjectIdentifier(f"{JPKI_PERSONAL_DATA}.2")
OID_SEX: Final = x509.ObjectIdentifier(f"{JPKI_PERSONAL_DATA}.3")
OID_BIRTH_DATE: Final = x509.ObjectIdentifier(f"{JPKI_PERSONAL_DATA}.4")
OID_ADDRESS: Final = x509.ObjectIdentifier(f"{JPKI_PERSONAL_DATA}.5")
OID_ADDRESS_SUBSTITUTES: Final = x509.ObjectIdentifier(f"{JPKI_PERSONAL_DATA}.6")
SEX_CODES: Final = {"male": "1", "female": "2"}
SEX_NAMES: Final = {"1": "male", "2": "female", "3": "unknown"}
ERA_CODES: Final = {"明治": "1", "大正": "2", "昭和": "3", "平成": "4", "令和": "5"}
MAX_ADDRESS: Final = 200  # characters, as in the J-LIS profile
MAX_NAME: Final = 100


def check_facts(kind: CertificateKind, facts: SubjectFacts | None) -> None:
    """Raise ``ValueError`` unless ``facts`` fit ``kind`` (required for 署名用, refused for 利用者証明用 and for
    agency certificates)."""
    if kind is CertificateKind.AUTHENTICATION:
        if facts is not None:
            msg = "a user-authentication certificate carries no personal attributes"
            raise ValueError(msg)
        return
    if kind is CertificateKind.AGENCY:
        if facts is not None:
            msg = "an agency certificate carries no personal attributes"
            raise ValueError(msg)
        return
    if facts is None:
        msg = "a signature certificate needs the basic 4 facts"
        raise ValueError(msg)
    if not facts.name.strip() or len(facts.name) > MAX_NAME:
        msg = f"the name must have 1 to {MAX_NAME} characters"
        raise ValueError(msg)
    if not facts.address.strip() or len(facts.address) > MAX_ADDRESS:
        msg = f"the address must have 1 to {MAX_ADDRESS} characters"
        raise ValueError(msg)
    if facts.sex not in SEX_CODES:
        msg = "sex must be 'male' or 'female'"
        raise ValueError(msg)
    if era_of(facts.birth_date) is None:
        msg = "the birth date must be in the 明治 era or later"
        raise ValueError(msg)


def birth_date_code(day: dt.date) -> str:
    """``EYYYYMMDD``: the era code and the Gregorian date (J-LIS format)."""
    era = era_of(day)
    return ERA_CODES[era[0]] if era else "0"


def facts_alt_names(facts: SubjectFacts) -> x509.SubjectAlternativeName:
    """The subjectAltName of a 署名用 certificate, in the order real certificates use."""
    values = [
        (OID_NAME, facts.name),
        (OID_BIRTH_DATE, birth_date_code(facts.birth_date) + facts.birth_date.strftime("%Y%m%d")),
        (OID_SEX, SEX_CODES[facts.sex]),
        (OID_ADDRESS, facts.address),
        (OID_NAME_SUBSTITUTES, "0" * len(facts.name)),  # 0: not a substitute character (we never substitute)
        (OID_ADDRESS_SUBSTITUTES, "0" * len(facts.address)),
    ]
    return x509.SubjectAlternativeName([x509.OtherName(oid, utf8_string(text)) for oid, text in values])


def read_facts(certificate: x509.Certificate) -> SubjectFacts | None:
    """The basic 4 facts of a 署名用 certificate (``None`` when it carries none). ``name_kana`` is ``""``."""
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    found = {
        other.type_id: read_utf8_string(other.value) for other in names.get_values_for_type(x509.OtherName)
    }
    try:
        birth = found[OID_BIRTH_DATE]
        return SubjectFacts(
            name=found[OID_NAME],
            name_kana="",
            address=found[OID_ADDRESS],
            birth_date=dt.datetime.strptime(birth[1:], "%Y%m%d").date(),  # noqa: DTZ007 - a date, no zone
            sex=SEX_NAMES[found[OID_SEX]],
        )
    except (KeyError, ValueError) as exc:
        msg = "the certificate's personal-data entries are incomplete or malformed"
        raise ValueError(msg) from exc


# --- DER UTF8String (the value inside otherName's [0] EXPLICIT) -------------------------------------------------

UTF8_STRING_TAG: Final = 0x0C


def utf8_string(text: str) -> bytes:
    """DER encoding of an ASN.1 UTF8String."""
    body = text.encode()
    n = len(body)
    if n < 0x80:
        length = bytes([n])
    else:
        size = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(size)]) + size
    return bytes([UTF8_STRING_TAG]) + length + body


def read_utf8_string(der: bytes) -> str:
    """Decode a DER UTF8String (refuses any other tag, indefinite or non-minimal lengths, trailing bytes)."""
    if len(der) < 2 or der[0] != UTF8_STRING_TAG:
        msg = "not a UTF8String"
        raise ValueError(msg)
    first, offset = der[1], 2
    if first < 0x80:
        n = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or len(der) < 2 + count:
            msg = "bad DER length"
            raise ValueError(msg)
        n = int.from_bytes(der[2 : 2 + count], "big")
        offset += count
        if n < 0x80 or der[2] == 0:
            msg = "non-minimal DER length"
            raise ValueError(msg)
    if len(der) != offset + n:
        msg = "DER length does not match"
        raise ValueError(msg)
    return der[offset:].decode()

"""The basic 4 facts in subjectAltName: checks, era codes, round trips, and the UTF8String codec."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import given
from hypothesis import strategies as st

from tsunagu.pki.core import facts as jpki
from tsunagu.pki.core.types import CertificateKind, SubjectFacts

NOW = dt.datetime(2026, 11, 26, 1, 0, tzinfo=dt.UTC)
FACTS = SubjectFacts(
    "山田　太郎", "ヤマダ　タロウ", "神奈川県藤沢市朝日町1番地の1", dt.date(1980, 4, 1), "male"
)


@pytest.mark.parametrize(
    ("kind", "facts", "match"),
    [
        (CertificateKind.AUTHENTICATION, FACTS, "no personal attributes"),
        (CertificateKind.SIGNATURE, None, "basic 4 facts"),
        (CertificateKind.SIGNATURE, SubjectFacts("", "", "x", dt.date(1980, 1, 1), "male"), "name"),
        (CertificateKind.SIGNATURE, SubjectFacts("a", "", "x" * 201, dt.date(1980, 1, 1), "male"), "address"),
        (CertificateKind.SIGNATURE, SubjectFacts("a", "", "x", dt.date(1980, 1, 1), "other"), "sex"),
        (CertificateKind.SIGNATURE, SubjectFacts("a", "", "x", dt.date(1860, 1, 1), "male"), "明治"),
    ],
)
def test_facts_that_do_not_fit_are_refused(
    kind: CertificateKind, facts: SubjectFacts | None, match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        jpki.check_facts(kind, facts)


@pytest.mark.parametrize(
    ("born", "code"),
    [
        (dt.date(1912, 7, 29), "1"),
        (dt.date(1912, 7, 30), "2"),
        (dt.date(1926, 12, 25), "3"),
        (dt.date(1989, 1, 7), "3"),
        (dt.date(1989, 1, 8), "4"),
        (dt.date(2019, 4, 30), "4"),
        (dt.date(2019, 5, 1), "5"),
    ],
)
def test_birth_dates_carry_the_era_code(born: dt.date, code: str) -> None:
    assert jpki.birth_date_code(born) == code


names = st.text(st.characters(codec="utf-8"), min_size=1, max_size=100).filter(str.strip)


@given(
    name=names,
    address=st.text(st.characters(codec="utf-8"), min_size=1, max_size=200).filter(str.strip),
    born=st.dates(min_value=dt.date(1868, 10, 23), max_value=dt.date(2100, 12, 31)),
    sex=st.sampled_from(["male", "female"]),
)
def test_facts_round_trip_through_subject_alt_name(name: str, address: str, born: dt.date, sex: str) -> None:
    facts = SubjectFacts(name, "カナ", address, born, sex)
    names_ext = jpki.facts_alt_names(facts)
    builder = x509.CertificateBuilder().add_extension(names_ext, critical=False)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        builder.subject_name(x509.Name([]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "t")]))
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(NOW)
        .not_valid_after(NOW + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    assert jpki.read_facts(cert) == SubjectFacts(name, "", address, born, sex)


@given(st.text(st.characters(codec="utf-8"), max_size=3000))
def test_utf8_string_round_trip(text: str) -> None:
    der = jpki.utf8_string(text)
    assert jpki.read_utf8_string(der) == text


@pytest.mark.parametrize(
    "der",
    [
        b"",
        b"\x0c",
        b"\x13\x01a",
        b"\x0c\x02a",
        b"\x0c\x01ab",
        b"\x0c\x81\x01a",
        b"\x0c\x80",
        b"\x0c\x85" + b"\0" * 5,
    ],
)
def test_malformed_utf8_strings_are_refused(der: bytes) -> None:
    with pytest.raises(ValueError, match=r"UTF8String|length"):
        jpki.read_utf8_string(der)

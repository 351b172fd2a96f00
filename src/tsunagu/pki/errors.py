"""Typed refusals of the trust services. Details name the problem and what to do, never personal data."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from tsunagu.kernel.clock import JST
from tsunagu.kernel.errors import DomainError


def utc_text(at: dt.datetime) -> str:
    """An instant for English messages: ISO 8601 in UTC."""
    return at.astimezone(dt.UTC).isoformat()


def jst_text(at: dt.datetime) -> str:
    """An instant for Japanese messages: Japan time, to the second."""
    return at.astimezone(JST).strftime("%Y-%m-%d %H:%M:%S（日本時間）")


class CertificateRefused(DomainError):
    """Base of every reason a certificate is not accepted."""

    code: ClassVar[str] = "certificate-refused"
    status: ClassVar[int] = 403
    title: ClassVar[str] = "Certificate not accepted"

    def __init__(self, detail: str | None = None, *, ja: str | None = None, **extra: object) -> None:
        super().__init__(detail or self.default_detail, ja=ja or self.default_ja, **extra)

    default_detail: ClassVar[str] = "The certificate was not accepted."
    default_ja: ClassVar[str] = "電子証明書を受け付けられませんでした。"


class MalformedCertificate(CertificateRefused):
    code = "certificate-malformed"
    status = 400
    title = "Malformed certificate"
    default_detail = (
        "The certificate could not be read (it is not a DER X.509 certificate of the expected form)."
    )
    default_ja = "電子証明書を読み取れませんでした。形式が正しくありません。"


class UnknownIssuer(CertificateRefused):
    """A "foreign" certificate: not issued by this platform's certification authority."""

    code = "certificate-unknown-issuer"
    title = "Certificate from an unknown issuer"
    default_detail = "The certificate was not issued by this platform's certification authority."
    default_ja = "この電子証明書は本サービスの認証局が発行したものではありません。"


class WrongCertificateKind(CertificateRefused):
    code = "certificate-wrong-kind"
    title = "Wrong kind of certificate"
    default_detail = (
        "This is not the kind of certificate expected here (a signature certificate was given where a "
        "user-authentication certificate is needed, or the reverse)."
    )
    default_ja = "電子証明書の種類が違います（署名用と利用者証明用を取り違えていないか確認してください）。"


class CertificateExpired(CertificateRefused):
    code = "certificate-expired"
    title = "Certificate expired"
    default_detail = "The certificate has expired. Renew it at the municipal office."
    default_ja = "電子証明書の有効期限が切れています。市区町村の窓口で更新してください。"


class CertificateNotYetValid(CertificateRefused):
    code = "certificate-not-yet-valid"
    title = "Certificate not yet valid"
    default_detail = "The certificate is not valid yet at the time given."
    default_ja = "電子証明書の有効期間がまだ始まっていません。"


class CertificateRevoked(CertificateRefused):
    code = "certificate-revoked"
    title = "Certificate revoked"

    def __init__(self, revoked_at: dt.datetime) -> None:
        super().__init__(
            f"The certificate was revoked at {utc_text(revoked_at)}. "
            "A new one can be issued at the municipal office.",
            ja=f"電子証明書は {jst_text(revoked_at)} に失効しています。市区町村の窓口で再発行できます。",
            revoked_at=utc_text(revoked_at),
        )
        self.revoked_at = revoked_at

"""Why a passkey ceremony is refused: the typed errors, and what the resident is told (English, Japanese).

A refusal's key (``revoked``, ``clone_suspected``, …) is what the login history and the audit trail store."""

from __future__ import annotations

from tsunagu.kernel.errors import DomainError, Forbidden


class PasskeyNeedsCard(Forbidden):
    """Registering a passkey needs a session opened with the card (the smartphone credential is issued using
    the card's 利用者証明用電子証明書), not one opened with a passkey or by a proxy."""

    code = "passkey-needs-card"
    title = "Log in with your My Number card to register a passkey"


class PasskeyRegistrationRefused(DomainError):
    code = "passkey-registration-refused"
    status = 400
    title = "The passkey could not be registered"


class PasskeyLoginRefused(DomainError):
    code = "passkey-login-refused"
    status = 401
    title = "Passkey login refused"


LOGIN_REFUSALS: dict[str, tuple[str, str]] = {
    "malformed": (
        "The browser sent an incomplete passkey response. Try again.",
        "パスキーの応答が不完全です。もう一度お試しください。",
    ),
    "challenge": (
        "The login request has expired or was already used. Start again.",
        "ログインの要求が期限切れか、すでに使われています。最初からやり直してください。",
    ),
    "unknown_credential": (
        "This passkey is not registered here. Log in with your My Number card and register it.",
        "このパスキーは登録されていません。マイナンバーカードでログインして登録してください。",
    ),
    "revoked": (
        "This passkey has been revoked. Log in with your My Number card and register a new one.",
        "このパスキーは無効にされています。マイナンバーカードでログインして、新しく登録してください。",
    ),
    "verification_failed": (
        "The passkey response could not be verified.",
        "パスキーの応答を確認できませんでした。",
    ),
    "clone_suspected": (
        "This passkey may have been copied, so it has been stopped. Log in with your My Number card.",
        "このパスキーは複製された疑いがあるため停止しました。マイナンバーカードでログインしてください。",
    ),
    "card_suspended": (
        "Your My Number card is suspended, so its passkeys cannot be used. Please contact the municipal office.",
        "マイナンバーカードが一時停止中のため、パスキーは使えません。窓口にお問い合わせください。",
    ),
    "not_resident": (
        "Passkey login is only for current residents. Please contact the municipal office.",
        "パスキーでのログインは現在の住民の方のみ利用できます。窓口にお問い合わせください。",
    ),
}

REGISTRATION_REFUSALS: dict[str, tuple[str, str]] = {
    "malformed": ("The browser sent an incomplete passkey.", "パスキーの応答が不完全です。"),
    "challenge": (
        "The registration request has expired or was already used. Start again.",
        "登録の要求が期限切れか、すでに使われています。最初からやり直してください。",
    ),
    "verification_failed": (
        "The new passkey could not be verified.",
        "新しいパスキーを確認できませんでした。",
    ),
    "already_registered": ("This passkey is already registered.", "このパスキーはすでに登録されています。"),
}


def login_refused(reason: str) -> PasskeyLoginRefused:
    en, ja = LOGIN_REFUSALS[reason]
    return PasskeyLoginRefused(en, ja=ja, reason=reason)


def registration_refused(reason: str) -> PasskeyRegistrationRefused:
    en, ja = REGISTRATION_REFUSALS[reason]
    return PasskeyRegistrationRefused(en, ja=ja, reason=reason)

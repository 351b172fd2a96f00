"""Why the SD-JWT VC verifier refuses a presentation: one reason each, with a Japanese and an English message."""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    MALFORMED = "malformed"
    WRONG_TYP = "wrong_typ"
    UNKNOWN_ISSUER = "unknown_issuer"
    UNKNOWN_KEY = "unknown_key"
    BAD_ISSUER_SIGNATURE = "bad_issuer_signature"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    DISCLOSURE_NOT_IN_PAYLOAD = "disclosure_not_in_payload"
    DUPLICATE_DISCLOSURE = "duplicate_disclosure"
    DUPLICATE_DIGEST = "duplicate_digest"
    MISSING_KEY_BINDING = "missing_key_binding"
    BAD_KB_SIGNATURE = "bad_kb_signature"
    WRONG_AUDIENCE = "wrong_audience"
    WRONG_NONCE = "wrong_nonce"
    SD_HASH_MISMATCH = "sd_hash_mismatch"
    KB_TOO_OLD = "kb_too_old"
    KB_FROM_FUTURE = "kb_from_future"
    REVOKED = "revoked"
    SUSPENDED = "suspended"
    STATUS_UNAVAILABLE = "status_unavailable"
    REQUIRED_CLAIM_MISSING = "required_claim_missing"


MESSAGES: dict[Reason, tuple[str, str]] = {
    Reason.MALFORMED: ("資格情報の形式が正しくありません。", "The credential is malformed."),
    Reason.WRONG_TYP: (
        "資格情報の種類（typ）が正しくありません。",
        "The credential has the wrong type (typ).",
    ),
    Reason.UNKNOWN_ISSUER: ("発行者が信頼リストにありません。", "The issuer is not on the trust list."),
    Reason.UNKNOWN_KEY: ("発行者の鍵が見つかりません。", "The issuer's signing key is unknown."),
    Reason.BAD_ISSUER_SIGNATURE: ("発行者の署名が正しくありません。", "The issuer's signature is not valid."),
    Reason.NOT_YET_VALID: ("資格情報はまだ有効になっていません。", "The credential is not valid yet."),
    Reason.EXPIRED: ("資格情報の有効期限が切れています。", "The credential has expired."),
    Reason.DISCLOSURE_NOT_IN_PAYLOAD: (
        "開示された項目が発行者の署名の対象ではありません（改ざんまたは他の資格情報のもの）。",
        "A disclosed claim is not covered by the issuer's signature (tampered or from another credential).",
    ),
    Reason.DUPLICATE_DISCLOSURE: ("同じ開示が二度含まれています。", "The same disclosure appears twice."),
    Reason.DUPLICATE_DIGEST: ("同じダイジェストが二度含まれています。", "The same digest appears twice."),
    Reason.MISSING_KEY_BINDING: (
        "所持者の鍵による証明（KB-JWT）がありません。",
        "The holder's key binding (KB-JWT) is missing.",
    ),
    Reason.BAD_KB_SIGNATURE: (
        "所持者の鍵による署名が正しくありません。",
        "The key binding is not signed by the holder's key.",
    ),
    Reason.WRONG_AUDIENCE: (
        "この提示は別の検証者宛てです。",
        "The presentation is meant for another verifier.",
    ),
    Reason.WRONG_NONCE: (
        "ノンスが一致しません（再送の可能性）。",
        "The nonce does not match (possibly a replay).",
    ),
    Reason.SD_HASH_MISMATCH: (
        "所持者の証明が別の提示に対するものです（sd_hash 不一致）。",
        "The key binding was made for a different presentation (sd_hash mismatch).",
    ),
    Reason.KB_TOO_OLD: ("所持者の証明が古すぎます。", "The key binding is too old."),
    Reason.KB_FROM_FUTURE: ("所持者の証明の時刻が未来です。", "The key binding is dated in the future."),
    Reason.REVOKED: ("資格情報は失効しています。", "The credential has been revoked."),
    Reason.SUSPENDED: ("資格情報は一時停止中です。", "The credential is suspended."),
    Reason.STATUS_UNAVAILABLE: (
        "失効情報を確認できません。",
        "The credential's revocation status cannot be checked.",
    ),
    Reason.REQUIRED_CLAIM_MISSING: (
        "求められた項目が開示されていません。",
        "A requested claim was not disclosed.",
    ),
}

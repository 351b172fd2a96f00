"""The one typed settings object; the only place that reads environment variables (prefix ``TSUNAGU_``)."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SECRET_FILE = "secret.key"  # noqa: S105 - a file name, not a secret


class Settings(BaseSettings):
    """Platform settings. Build with :func:`load_settings`; never at import time."""

    model_config = SettingsConfigDict(env_prefix="TSUNAGU_", extra="ignore")

    data_dir: Path = Field(default=Path("tsunagu-data"), description="Where the SQLite file and keys live.")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default is SQLite in the data directory. PostgreSQL: "
        "postgresql+psycopg://user@host/db",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Master secret (base64, ≥ 32 bytes). Default: generated once into the data dir.",
    )
    municipality_code: str = Field(
        default="142051", description="The local-government code this registry serves."
    )
    default_language: Literal["ja", "en"] = "ja"
    cookie_secure: bool = Field(
        default=True, description="Mark cookies Secure (browsers accept this on localhost)."
    )
    session_minutes: int = Field(default=30, ge=1, le=24 * 60)
    public_url: str = Field(
        default="http://localhost:8000",
        description="Base URL the platform is reached at: OIDC issuer, CRL distribution points, QR login links.",
    )
    citizen_idle_minutes: int = Field(
        default=30, ge=1, le=24 * 60, description="Citizen session idle timeout."
    )
    citizen_absolute_minutes: int = Field(
        default=8 * 60, ge=1, le=7 * 24 * 60, description="Citizen session lifetime, however active."
    )
    linkage_timeout: float = Field(
        default=5.0, gt=0, le=120, description="Seconds the linkage hub waits for a node's answer."
    )
    laws_max_file_mb: int = Field(
        default=64,
        ge=1,
        le=4096,
        description="The largest law XML file `tsunagu laws import` and the upload page accept, in MB (refused "
        "before parsing).",
    )
    payments_master_dir: Path | None = Field(
        default=None,
        description="The zengin-code bank and branch master (source-data layout: banks.json, branches/, "
        "updated_at). Default: the copy in the installed zengin-code package.",
    )
    credentials_trust_dir: Path | None = Field(
        default=None,
        description="Other SMART Health Card issuers the verifier page trusts: *.json files, each a JWKS with "
        'its issuer in "iss" (or an {iss: JWKS} map); CRLs in crl/*.json. This platform\'s own issuer is '
        "always trusted.",
    )
    laws_cache: Path | None = Field(
        default=None,
        description="Where `tsunagu laws fetch` keeps the law XML it fetched, one file per revision. Default: "
        "~/.cache/tsunagu/laws.",
    )
    laws_api_url: str = Field(
        default="https://laws.e-gov.go.jp/api/2",
        description="The e-Gov 法令API Version 2 base URL (a mirror or a local test server may stand in).",
    )
    environment: Literal["production", "demo", "test"] = "production"
    log_level: str = "INFO"

    @field_validator("municipality_code")
    @classmethod
    def _six_digits(cls, v: str) -> str:
        if len(v) != 6 or not v.isdigit():
            msg = "municipality_code must be a 6-digit local-government code"
            raise ValueError(msg)
        return v

    @field_validator("public_url")
    @classmethod
    def _no_trailing_slash(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            msg = "public_url must start with http:// or https://"
            raise ValueError(msg)
        return v.rstrip("/")

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'tsunagu.db').resolve()}"

    @property
    def laws_max_file_bytes(self) -> int:
        return self.laws_max_file_mb * 1024 * 1024

    @property
    def is_sqlite(self) -> bool:
        return self.sqlalchemy_url.startswith("sqlite")

    def master_secret(self) -> bytes:
        """The master secret; generated into ``data_dir/secret.key`` (mode 0600) on first use if not configured."""
        if self.secret_key is not None:
            raw = base64.b64decode(self.secret_key.get_secret_value())
        else:
            path = self.data_dir / SECRET_FILE
            if not path.exists():
                self.data_dir.mkdir(parents=True, exist_ok=True)
                path.write_bytes(base64.b64encode(secrets.token_bytes(32)))
                path.chmod(0o600)
            raw = base64.b64decode(path.read_bytes())
        if len(raw) < 32:
            msg = "TSUNAGU_SECRET_KEY must decode to at least 32 bytes"
            raise ValueError(msg)
        return raw


def load_settings(**overrides: object) -> Settings:
    """Read the environment (and explicit overrides, which win)."""
    return Settings(**overrides)  # type: ignore[arg-type]

"""Settings of the HTTP front end, read from the environment like peer_review.settings.Settings.

They live apart from Settings because only the API process needs them (the worker never serves HTTP).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Short HMAC keys can be brute-forced offline from any one token; RFC 7518 asks for at least the hash size.
MIN_SECRET_BYTES = 32


class ApiSettings(BaseSettings):
    """`PEER_REVIEW_API_*`, `PEER_REVIEW_JWT_*` and `PEER_REVIEW_DEV_LOGIN`."""

    model_config = SettingsConfigDict(env_prefix="PEER_REVIEW_", extra="ignore", frozen=True)

    api_host: str = "127.0.0.1"
    api_port: int = Field(8000, ge=1, le=65535)
    # HS256: a shared secret (at least 32 bytes). RS256: the identity provider's public key (PEM text or a file).
    jwt_secret: SecretStr | None = None
    jwt_public_key: str | None = None
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    jwt_leeway_seconds: int = Field(30, ge=0, le=300)
    # The dev sign-in page: never on unless asked for, because it lets anyone act as anyone in the directory.
    dev_login: bool = False
    session_hours: float = Field(8.0, gt=0, le=24)

    @field_validator("jwt_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"jwt_secret: must be at least {MIN_SECRET_BYTES} bytes")
        return value

    @field_validator("jwt_public_key")
    @classmethod
    def _read_key_file(cls, value: str | None) -> str | None:
        if value and not value.lstrip().startswith("-----BEGIN"):
            try:
                return Path(value).read_text(encoding="utf-8")
            except OSError as error:
                raise ValueError(f"jwt_public_key: cannot read {value}: {error.strerror}") from None
        return value

    @model_validator(mode="after")
    def _some_way_to_sign_in(self) -> ApiSettings:
        if not (self.jwt_secret or self.jwt_public_key or self.dev_login):
            raise ValueError(
                "authentication is not configured: set PEER_REVIEW_JWT_SECRET (HS256) or PEER_REVIEW_JWT_PUBLIC_KEY "
                "(RS256), or PEER_REVIEW_DEV_LOGIN=true on a developer's machine"
            )
        return self

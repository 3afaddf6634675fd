"""TLS and API-key settings for the Temporal connection."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr
from temporalio.service import TLSConfig

from peer_review.settings import Settings
from peer_review.temporal.connection import tls_config


def test_plain_by_default_and_tls_with_an_api_key() -> None:
    assert tls_config(Settings()) is False
    assert tls_config(Settings(temporal_api_key=SecretStr("k"))) is True


def test_mutual_tls_reads_the_certificate_files(tmp_path: Path) -> None:
    for name in ("cert.pem", "key.pem", "ca.pem"):
        (tmp_path / name).write_bytes(name.encode())
    config = tls_config(
        Settings(
            temporal_tls_cert=tmp_path / "cert.pem",
            temporal_tls_key=tmp_path / "key.pem",
            temporal_tls_ca=tmp_path / "ca.pem",
        )
    )
    assert isinstance(config, TLSConfig)
    assert (config.client_cert, config.client_private_key, config.server_root_ca_cert) == (
        b"cert.pem",
        b"key.pem",
        b"ca.pem",
    )


def test_the_variables_are_the_temporal_clis(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TEMPORAL_TLS_CA", str(tmp_path / "ca.pem"))
    monkeypatch.setenv("TEMPORAL_API_KEY", "secret")
    settings = Settings()
    assert settings.temporal_tls_ca == tmp_path / "ca.pem"
    assert settings.temporal_api_key is not None and settings.temporal_api_key.get_secret_value() == "secret"

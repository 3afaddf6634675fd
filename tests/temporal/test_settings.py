"""Settings handed to another process as environment variables come back the same there."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from peer_review.settings import Settings


def test_settings_survive_the_trip_through_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    chosen = Settings(
        temporal_address="127.0.0.1:7999",
        temporal_api_key=SecretStr("key"),
        task_queue="q",
        records_url=f"sqlite+aiosqlite:///{tmp_path / 'r.db'}",
        directory=tmp_path / "directory.yaml",
        journey_stages=["One", "Two"],
        notify="smtp",
        smtp_port=2525,
        smtp_starttls=True,
        shutdown_grace_seconds=1.5,
        metrics_port=9999,
    )
    variables = chosen.environment()
    assert variables["TEMPORAL_ADDRESS"] == "127.0.0.1:7999" and variables["PEER_REVIEW_JOURNEY_STAGES"] == "One,Two"
    assert "PEER_REVIEW_SMTP_USERNAME" not in variables  # unset stays unset
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert Settings() == chosen

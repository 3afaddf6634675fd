"""Write the API's published documents: docs/openapi.json and the JSON Schemas of Referral and Findings.

`python -m peer_review.web.openapi` rewrites them; tests/web/test_service_and_auth.py fails when they are out of date.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr

from peer_review.domain.models import Findings, Referral
from peer_review.settings import Settings
from peer_review.web.config import ApiSettings

DOCS = Path(__file__).resolve().parent.parent.parent / "docs"


def _schema(model: type[BaseModel], file_name: str) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": file_name,
        **model.model_json_schema(),
    }


def documents() -> dict[str, str]:
    """File name in docs/ → its current content."""
    from peer_review.web.app import create_app

    # The document does not depend on configuration; fixed settings keep it the same on every machine.
    api = ApiSettings(jwt_secret=SecretStr("d" * 32), dev_login=False)
    app = create_app(Settings(), api)
    contents = {
        "openapi.json": app.openapi(),
        "referral.schema.json": _schema(Referral, "referral.schema.json"),
        "findings.schema.json": _schema(Findings, "findings.schema.json"),
    }
    return {name: json.dumps(value, indent=2, ensure_ascii=False) + "\n" for name, value in contents.items()}


def write(folder: Path = DOCS) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in documents().items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write():
        print(f"wrote {path}")

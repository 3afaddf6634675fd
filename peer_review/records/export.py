"""Exports of a review for auditors, in JSON, CSV or HTML. Pure rendering.

The redacted export is what may be disclosed (for example to explain what the organisation learned): the
recommendations with their level and the owning team's function, the dates and the outcome. It holds no names,
staff or team ids or sites, no customer reference, no summary, no issues raised and no findings text.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Callable, Mapping
from typing import Any

from peer_review.domain.models import Status
from peer_review.records.read_model import ReviewRecord


def full(record: ReviewRecord, chain_keys: Mapping[str, bytes]) -> dict[str, Any]:
    check = record.audit.verify(chain_keys)
    return {
        "referral": record.referral.model_dump(mode="json"),
        "status": record.row.status.value,
        "outcome": record.row.outcome,
        "referred_at": record.row.created_at.isoformat(),
        "last_updated_at": record.row.updated_at.isoformat(),
        "findings": record.findings.model_dump(mode="json") if record.findings else None,
        "recommendations": [
            _recommendation(item.recommendation.model_dump(mode="json"), item.status) for item in record.recommendations
        ],
        "audit_events": [row.event.model_dump(mode="json") for row in record.audit.events],
        "chain_valid": check.valid,
    }


def redacted(record: ReviewRecord, owner_label: Callable[[str], str]) -> dict[str, Any]:
    """`owner_label` says what may be disclosed of an owner id (Directory.owner_label: a team's function)."""
    return {
        "referral_id": record.referral.referral_id,
        "outcome": record.row.outcome,
        "status": record.row.status.value,
        "referred_on": record.row.created_at.date().isoformat(),
        "closed_on": record.row.updated_at.date().isoformat() if record.row.status is Status.CLOSED else None,
        "recommendations": [
            {
                **_recommendation(item.recommendation.model_dump(mode="json"), item.status),
                "owner": owner_label(item.recommendation.owner),
            }
            for item in record.recommendations
        ],
    }


def _recommendation(item: dict[str, Any], status: str) -> dict[str, Any]:
    return {"level": item["level"], "text": item["text"], "owner": item["owner"], "status": status}


def render(document: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    rows = list(_flatten(document))
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["field", "value"])
        writer.writerows(rows)
        return buffer.getvalue()
    title = f"Peer Review {html.escape(str(document.get('referral_id') or document['referral']['referral_id']))}"
    body = "\n".join(f"<tr><th scope=row>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{title}</title>"
        "<style>body{font-family:Arial,sans-serif;margin:2em}th{text-align:left;padding-right:1em;"
        "vertical-align:top}td,th{border-bottom:1px solid #ccc;padding:.3em}</style></head>"
        f"<body><h1>{title}</h1><p>Internal: Peer Reviews are for continuous improvement, never blame.</p>"
        f"<table>{body}</table></body></html>\n"
    )


def _flatten(node: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(node, dict):
        return [pair for key, value in node.items() for pair in _flatten(value, f"{prefix}{key}.")]
    if isinstance(node, list):
        return [pair for index, value in enumerate(node, 1) for pair in _flatten(value, f"{prefix}{index}.")]
    return [(prefix.rstrip("."), "" if node is None else str(node))]

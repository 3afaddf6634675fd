"""Bulk referrals: read many Referrals from JSON Lines or CSV and start a review for each valid one.

An invalid line never stops the valid ones: each line is judged on its own and reported with its line
number. Only an unreachable service stops the import (the lines not yet tried are reported as such).
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any, Literal

from pydantic import ValidationError

from peer_review.cli.common import describe_validation
from peer_review.domain.models import Referral
from peer_review.temporal.client import InvalidInput, PeerReviewClient, ReviewError

Format = Literal["jsonl", "csv"]
LIST_SEPARATOR = "|"
# Starting a workflow is one round trip; a few at a time is much faster than one by one and gentle on the server.
CONCURRENCY = 8


class LineOutcome(StrEnum):
    STARTED = "started"
    ALREADY_STARTED = "already_started"
    INVALID = "invalid"
    NOT_STARTED = "not_started"  # the service failed before this line could be tried


@dataclass(frozen=True)
class ParsedLine:
    line: int
    referral: Referral | None
    referral_id: str | None = None
    problem: str | None = None


@dataclass(frozen=True)
class LineResult:
    line: int
    referral_id: str | None
    outcome: LineOutcome
    status: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class BulkSummary:
    results: list[LineResult]

    def count(self, outcome: LineOutcome) -> int:
        return sum(1 for result in self.results if result.outcome is outcome)

    @property
    def exit_code(self) -> int:
        # 1 when the service failed (as for every command), else 2 when any line was invalid.
        if self.count(LineOutcome.NOT_STARTED):
            return 1
        return 2 if self.count(LineOutcome.INVALID) else 0

    def as_json(self) -> dict[str, Any]:
        return {
            **{outcome.value: self.count(outcome) for outcome in LineOutcome},
            "lines": [{**asdict(result), "outcome": result.outcome.value} for result in self.results],
        }


def detect_format(name: str, text: str) -> Format:
    """By extension, else by content: JSON Lines start with `{`."""
    lowered = name.lower()
    if lowered.endswith(".csv"):
        return "csv"
    if lowered.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    return "jsonl" if text.lstrip().startswith("{") else "csv"


def parse(text: str, fmt: str) -> list[ParsedLine]:
    """`fmt` is "csv" or "jsonl"."""
    return _parse_csv(text) if fmt == "csv" else _parse_jsonl(text)


def _validated(line: int, data: object) -> ParsedLine:
    referral_id = data.get("referral_id") if isinstance(data, dict) else None
    shown_id = referral_id if isinstance(referral_id, str) and len(referral_id) <= 64 else None
    if not isinstance(data, dict):
        return ParsedLine(line, None, None, "not a JSON object")
    try:
        referral = Referral.model_validate(data)
    except ValidationError as error:
        return ParsedLine(line, None, shown_id, describe_validation(error))
    return ParsedLine(line, referral, referral.referral_id)


def _parse_jsonl(text: str) -> list[ParsedLine]:
    parsed = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as error:
            parsed.append(ParsedLine(number, None, None, f"not valid JSON: {error.msg} at column {error.colno}"))
            continue
        parsed.append(_validated(number, data))
    return parsed


def _csv_list(value: str) -> list[str] | str:
    value = value.strip()
    if value.startswith("["):
        try:
            items = json.loads(value)
        except json.JSONDecodeError:
            return value  # left as text so validation names the field
        return [str(item) for item in items] if isinstance(items, list) else value
    return [part.strip() for part in value.split(LIST_SEPARATOR) if part.strip()]


def _csv_bool(value: str) -> bool | str:
    return {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}.get(
        value.strip().lower(), value
    )


def _csv_row(row: dict[str | Any, str | Any]) -> dict[str, Any]:
    """One CSV row as a Referral dict: blank cells are absent, lists split on `|`, customer_* nested."""
    data: dict[str, Any] = {}
    customer: dict[str, Any] = {}
    for key, value in row.items():
        if key is None:  # more cells than headings
            data["(extra cells)"] = value
            continue
        if value is None or not str(value).strip():
            continue
        name = str(key).strip()
        if name in ("reasons", "issues_raised"):
            data[name] = _csv_list(value)
        elif name in ("complaint_made", "customer_additional_needs"):
            target, field = (customer, "additional_needs") if name.startswith("customer_") else (data, name)
            target[field] = _csv_bool(value)
        elif name == "customer_reference":
            customer["reference"] = value.strip()
        else:
            data[name] = value
    if customer:
        data["customer"] = customer
    return data


def _parse_csv(text: str) -> list[ParsedLine]:
    reader = csv.DictReader(io.StringIO(text))
    parsed = []
    start = 2  # the heading is line 1
    for row in reader:
        if any(str(value).strip() for value in row.values() if value is not None):
            parsed.append(_validated(start, _csv_row(row)))
        start = reader.line_num + 1  # a quoted cell may span lines
    return parsed


async def refer_all(
    reviews: PeerReviewClient, lines: list[ParsedLine], on_result: Callable[[LineResult], None] | None = None
) -> BulkSummary:
    """Start every valid line (a few at a time); report each line once, in file order."""
    gate = asyncio.Semaphore(CONCURRENCY)
    failure: list[ReviewError] = []

    async def one(item: ParsedLine, earlier: asyncio.Future[LineResult] | None) -> LineResult:
        if earlier is not None:
            # A repeated referral id waits for its first line, so the first is the one reported as started.
            await earlier
        result = await _refer_one(reviews, item, gate, failure)
        if on_result:
            on_result(result)
        return result

    by_id: dict[str, asyncio.Future[LineResult]] = {}
    tasks = []
    for item in lines:
        task = asyncio.ensure_future(one(item, by_id.get(item.referral_id or "") if item.referral else None))
        if item.referral:
            by_id[item.referral.referral_id] = task
        tasks.append(task)
    results = await asyncio.gather(*tasks)
    return BulkSummary(sorted(results, key=lambda result: result.line))


async def _refer_one(
    reviews: PeerReviewClient, item: ParsedLine, gate: asyncio.Semaphore, failure: list[ReviewError]
) -> LineResult:
    if item.referral is None:
        return LineResult(item.line, item.referral_id, LineOutcome.INVALID, reason=item.problem)
    async with gate:
        if failure:
            return LineResult(item.line, item.referral_id, LineOutcome.NOT_STARTED, reason=f"not tried: {failure[0]}")
        try:
            started = await reviews.refer(item.referral)
        except InvalidInput as error:  # against the directory: unknown referrer, OSN without a Chair
            return LineResult(item.line, item.referral_id, LineOutcome.INVALID, reason=str(error))
        except ReviewError as error:
            failure.append(error)
            return LineResult(item.line, item.referral_id, LineOutcome.NOT_STARTED, reason=str(error))
    outcome = LineOutcome.ALREADY_STARTED if started.already_started else LineOutcome.STARTED
    return LineResult(item.line, started.referral_id, outcome, status=started.status.value)


def not_started(lines: list[ParsedLine], error: ReviewError) -> BulkSummary:
    """Every line's result when the service could not be reached at all."""
    return BulkSummary(
        [
            LineResult(item.line, item.referral_id, LineOutcome.INVALID, reason=item.problem)
            if item.referral is None
            else LineResult(item.line, item.referral_id, LineOutcome.NOT_STARTED, reason=str(error))
            for item in lines
        ]
    )

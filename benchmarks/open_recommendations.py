"""Open recommendations at rest (issue 15): many RecommendationWorkflows waiting for their owners, held by a real
worker process of their own, weighed as the reviews at rest are (at_rest.py).

They are made the only way the service makes them: reviews taken through the standard path to sign-off
(drivers.ProjectDriver), each with findings of PER_REVIEW recommendations, so the worker's proof checks and
every side effect run as in production. A recommendation is at rest once its row is in the records database
(its contacts resolved and its first record written) and the worker has gone idle; the reviews themselves have
closed, so the worker holds only the recommendations.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import func, select

from benchmarks.at_rest import fill, weigh
from benchmarks.drivers import ProjectDriver, Timings, example
from benchmarks.processes import WorkerProcess
from benchmarks.stack import Stack
from peer_review.domain.models import Findings
from peer_review.records.schema import recommendations
from peer_review.records.store import RecordsStore
from peer_review.temporal.client import PeerReviewClient

PER_REVIEW = 10
PREFIX = "RECS"


def findings_with(count: int) -> Findings:
    """The example findings with `count` recommendations: its own two (one local, one national) in turn."""
    data = example("findings.json")
    pattern = data["recommendations"]
    items = [
        {**pattern[i % len(pattern)], "text": f"{pattern[i % len(pattern)]['text']} ({i + 1})"} for i in range(count)
    ]
    return Findings.model_validate({**data, "recommendations": items})


async def measure_open_recommendations(stack: Stack, count: int, server_pid: int) -> dict[str, Any]:
    """Bring at least `count` recommendations to rest on a fresh worker and weigh it: the figures as the reviews'
    at rest are named (per recommendation), its review's share of the CPU included."""
    settings = stack.settings("recommendations")
    worker = WorkerProcess(stack.environment(settings), stack.workdir)
    driver = ProjectDriver(PeerReviewClient(stack.client, settings), PREFIX)
    driver.findings = findings_with(PER_REVIEW)
    reviews = math.ceil(count / PER_REVIEW)

    failures: list[str] = []

    async def sign_off(index: int) -> None:
        # A review that fails (a call timed out on a loaded machine) is counted and shown, never retried.
        try:
            await driver.review(index, Timings())
        except Exception as error:
            failures.append(f"{type(error).__name__}: {error}")

    store = RecordsStore.from_url(settings.records_url)

    async def tracked() -> int:
        async with store.engine.connect() as connection:
            return int((await connection.execute(select(func.count()).select_from(recommendations))).scalar_one())

    async def settled() -> int:
        # A failed review's recommendations never come: its slot is handed back as if they had.
        return await tracked() + PER_REVIEW * len(failures)

    try:
        await worker.start()  # it creates the records schema
        weighed = await weigh(worker.pid, server_pid, lambda: fill(reviews, sign_off, settled, PER_REVIEW))
        held = await tracked()
    finally:
        await store.close()
        await worker.stop()
    return {
        "recommendations": held,
        "reviews_signed_off": reviews - len(failures),
        "failed_reviews": len(failures),
        "first_failures": failures[:3],
        **weighed.figures(held, "recommendation"),
    }

"""Runs the Peer Review worker: the workflow and every activity, in one process.

SIGINT or SIGTERM stops polling for new work and gives running activities the configured grace period
to finish; whatever is left is handed back to Temporal and retried by another worker.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from datetime import timedelta
from functools import partial
from typing import Any

import structlog
from temporalio.client import Client
from temporalio.common import HeaderCodecBehavior
from temporalio.worker import Replayer, Worker

from activities.directory import DirectoryActivities
from activities.notifications import NotificationActivities, NotificationDesk, mailer_from
from activities.records import RecordActivities
from activities.retention import RetentionActivities
from peer_review.foreground import freeze_start_up_heap, run_until_signalled
from peer_review.logs import configure_logging
from peer_review.records.store import RecordsStore
from peer_review.settings import Settings
from peer_review.temporal.bytecode import keep_bytecode, remember_code
from peer_review.temporal.connection import connect
from peer_review.temporal.converter import encrypted_converter
from peer_review.temporal.key_rings import load_chain_ring, load_signing_ring
from peer_review.temporal.metrics import prometheus_runtime
from peer_review.temporal.names import NOTIFICATIONS_QUEUE_SUFFIX, RECORDS_QUEUE_SUFFIX
from peer_review.temporal.proof_checks import ProofChecker
from peer_review.temporal.proofs import with_sealed_headers
from peer_review.temporal.sandbox import workflow_runner
from workflows.peer_review import PeerReviewWorkflow
from workflows.recommendation import RecommendationWorkflow
from workflows.retention import RetentionWorkflow

log = structlog.get_logger(__name__)


class PeerReviewWorker:
    """The workers of one process, started and stopped together.

    The first runs the workflow and the directory look-ups a decision waits for. The others run records and
    notifications, each on its own task queue with its own activity slots: a records database or a mail server
    that is down can hold only its own slots, never the ones a decision or the other side effect needs.
    """

    def __init__(self, *workers: Worker, on_exit: Sequence[Callable[[], None]] = ()) -> None:
        self.workers = workers
        self.on_exit = on_exit
        self._running = AsyncExitStack()

    async def __aenter__(self) -> PeerReviewWorker:
        for worker in reversed(self.workers):
            await self._running.enter_async_context(worker)
        return self

    async def __aexit__(self, *exc: object) -> None:
        # All stop at once, so running activities get one grace period rather than one per worker in turn.
        await asyncio.gather(*(worker.shutdown() for worker in self.workers))
        await self._running.aclose()
        for close in self.on_exit:
            close()


# A review's next workflow task goes to the worker that holds it in its cache; if that worker has died, the server
# hands the task to any worker after this long (the SDK's default is 10 s, which a waiting decision would feel).
STICKY_QUEUE_TIMEOUT = timedelta(seconds=3)


def build_worker(client: Client, settings: Settings, store: RecordsStore, **tuning: Any) -> PeerReviewWorker:
    """Every workflow and activity; `tuning` passes worker options (cache, pollers) to the decisions worker.

    Workflows only see requests whose proof of the acting person checks out (ProofChecker), with headers sealed by
    the codec like every other payload.
    """
    client = with_sealed_headers(client)
    directory = DirectoryActivities(settings.directory)
    mailer = mailer_from(settings)
    desk = NotificationDesk(
        directory=settings.directory, internal_domains=settings.internal_domains, mailer_configured=mailer is not None
    )
    records = RecordActivities(store, load_chain_ring(settings), desk)
    notifications = NotificationActivities(desk=desk, store=store, sender=settings.smtp_from, mailer=mailer)
    grace = timedelta(seconds=settings.shutdown_grace_seconds)
    decisions = Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[PeerReviewWorkflow, RecommendationWorkflow],
        activities=[
            directory.resolve_contacts,
            directory.find_staff,
            directory.resolve_owners,
            directory.resolve_recommendation_contacts,
        ],
        interceptors=[ProofChecker(load_signing_ring(settings))],
        workflow_runner=workflow_runner(client.data_converter),
        graceful_shutdown_timeout=grace,
        sticky_queue_schedule_to_start_timeout=STICKY_QUEUE_TIMEOUT,
        **{"max_cached_workflows": settings.max_cached_workflows, **tuning},
    )
    # The retention workflow runs here, beside record writes: it is started by a schedule (with no proof of a person,
    # and it needs none: it only ever disposes of what is past retention) and never competes with decisions.
    retention = RetentionActivities(store, load_chain_ring(settings), settings.retention_years)
    record_keeping = Worker(
        client,
        task_queue=settings.task_queue + RECORDS_QUEUE_SUFFIX,
        workflows=[RetentionWorkflow],
        workflow_runner=workflow_runner(client.data_converter),
        activities=[
            records.record_batch,
            records.record_recommendation,
            retention.dispose_batch,
            retention.disposal_candidates,
            retention.retention_counts,
        ],
        graceful_shutdown_timeout=grace,
    )
    mail = Worker(
        client,
        task_queue=settings.task_queue + NOTIFICATIONS_QUEUE_SUFFIX,
        activities=[notifications.notify],
        graceful_shutdown_timeout=grace,
    )
    return PeerReviewWorker(decisions, record_keeping, mail, on_exit=[retention.close])


def build_replayer(settings: Settings) -> Replayer:
    """Replays saved histories exactly as the worker runs them: same converter, header sealing and proof checks."""
    converter = encrypted_converter(settings.key_file)
    return Replayer(
        workflows=[PeerReviewWorkflow, RecommendationWorkflow],
        data_converter=converter,
        interceptors=[ProofChecker(load_signing_ring(settings))],
        header_codec_behavior=HeaderCodecBehavior.CODEC,
        workflow_runner=workflow_runner(converter),
    )


async def run(settings: Settings, stop: asyncio.Event) -> None:
    """The worker until `stop` is set (`peer-review-worker`, and `make run` through dev.py)."""
    folder = keep_bytecode()
    remember_code()
    log.info("workflow bytecode", folder=str(folder) if folder else None, written=not sys.dont_write_bytecode)
    client = await connect(settings, prometheus_runtime(settings.metrics_port) if settings.metrics_port else None)
    store = RecordsStore.from_url(settings.records_url)
    await store.create_schema()
    try:
        async with build_worker(client, settings, store):
            # Later full collections then go through the cached workflows alone: pauses a fifth shorter over 3,000
            # open reviews (benchmarks/PERFORMANCE.md, "Earlier full run (`45ac87b`)").
            freeze_start_up_heap()
            log.info(
                "worker started",
                task_queue=settings.task_queue,
                namespace=settings.temporal_namespace,
                metrics_port=settings.metrics_port,
            )
            await stop.wait()
            log.info("worker stopping", grace_seconds=settings.shutdown_grace_seconds)
    finally:
        await store.close()
    log.info("worker stopped")


def main() -> None:
    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)
    run_until_signalled(partial(run, settings))


if __name__ == "__main__":
    main()

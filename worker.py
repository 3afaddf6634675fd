"""Runs the Peer Review worker: the workflow and every activity, in one process.

SIGINT or SIGTERM stops polling for new work and gives running activities the configured grace period
to finish; whatever is left is handed back to Temporal and retried by another worker.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from functools import partial
from typing import Any

import structlog
from temporalio.client import Client
from temporalio.worker import Worker

from activities.directory import DirectoryActivities
from activities.notifications import NotificationActivities, mailer_from
from activities.records import RecordActivities, RecordsStore
from peer_review.connection import connect
from peer_review.logs import configure_logging
from peer_review.metrics import prometheus_runtime
from peer_review.process import run_until_signalled
from peer_review.settings import Settings
from workflows.peer_review import PeerReviewWorkflow

log = structlog.get_logger(__name__)


def build_worker(client: Client, settings: Settings, store: RecordsStore, **tuning: Any) -> Worker:
    """The worker with every workflow and activity; `tuning` passes worker options (cache, pollers) through."""
    directory = DirectoryActivities(settings.directory)
    records = RecordActivities(store)
    notifications = NotificationActivities(
        directory=settings.directory,
        store=store,
        sender=settings.smtp_from,
        internal_domains=settings.internal_domains,
        mailer=mailer_from(settings),
    )
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[PeerReviewWorkflow],
        activities=[
            directory.resolve_contacts,
            directory.find_staff,
            records.record_batch,
            notifications.notify,
        ],
        graceful_shutdown_timeout=timedelta(seconds=settings.shutdown_grace_seconds),
        **{"max_cached_workflows": settings.max_cached_workflows, **tuning},
    )


async def run(settings: Settings, stop: asyncio.Event) -> None:
    client = await connect(settings, prometheus_runtime(settings.metrics_port) if settings.metrics_port else None)
    store = RecordsStore.from_url(settings.records_url)
    await store.create_schema()
    try:
        async with build_worker(client, settings, store):
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

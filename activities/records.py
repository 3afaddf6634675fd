"""Record-keeping activity: a thin wrapper that writes one batch of a record (peer_review.records), with the outbox
rows of the batch's messages in the same transaction."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import UTC, datetime

from sqlalchemy.exc import DataError, DBAPIError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.notifications import NotificationDesk, log_outcomes
from peer_review.domain.audit_chain import ChainKey
from peer_review.domain.models import BatchWritten, RecommendationBatch, RecordBatch
from peer_review.records.store import RecordsStore
from peer_review.temporal.codec import KeyRing
from peer_review.temporal.metrics import Metric
from peer_review.temporal.names import RECORD_BATCH, RECORD_RECOMMENDATION

# The activity error type of a batch the database refuses as it stands (a value it will not store): retrying the
# same batch cannot help, so the workflow stops retrying, counts it and raises the PeerReviewRecordsStuck alert.
RECORD_REJECTED = "RecordRejected"


class RecordActivities:
    def __init__(self, store: RecordsStore, chain_ring: KeyRing, desk: NotificationDesk) -> None:
        self.store = store
        # The newest chain key seals new rows; the database keeps only its id.
        self.chain_key = ChainKey(chain_ring.newest, chain_ring.keys[chain_ring.newest])
        self.desk = desk

    @activity.defn(name=RECORD_BATCH)
    async def record_batch(self, batch: RecordBatch) -> BatchWritten:
        """One batch of a review's record, with the outbox rows of its messages in the same transaction."""
        messages = self.desk.first_attempts(batch.notifications)
        written = await self._written(self.store.write_batch(batch, self.chain_key, messages))
        log_outcomes(batch.notifications, written.outcomes)
        if batch.events:
            # How far the system of record trails the review: from the oldest event in the batch to now.
            lag = (datetime.now(UTC) - batch.events[0].at).total_seconds()
            activity.metric_meter().create_histogram_float(Metric.RECORD_LATENCY, unit="s").record(max(lag, 0.0))
        activity.logger.debug("recorded audit events", extra={"added": written.added})
        return written

    @activity.defn(name=RECORD_RECOMMENDATION)
    async def record_recommendation(self, batch: RecommendationBatch) -> BatchWritten:
        """One batch of a tracked recommendation's record: its audit events, its messages' outbox rows and its row
        in the register."""
        messages = self.desk.first_attempts(batch.notifications)
        written = await self._written(self.store.write_recommendation_batch(batch, self.chain_key, messages))
        log_outcomes(batch.notifications, written.outcomes)
        return written

    async def _written(self, write: Awaitable[BatchWritten]) -> BatchWritten:
        try:
            return await write
        except DBAPIError as error:
            if not refused_for_good(error):
                raise  # the database is down or busy: retried until it answers
            raise ApplicationError(
                f"the records database refused the batch: {type(error.orig).__name__}",
                type=RECORD_REJECTED,
                non_retryable=True,
            ) from None


def refused_for_good(error: DBAPIError) -> bool:
    """A data exception (SQLSTATE class 22: a value too long, out of range, malformed): the same batch always fails."""
    if isinstance(error, DataError):
        return True
    sqlstate = getattr(error.orig, "pgcode", None) or getattr(getattr(error.orig, "__cause__", None), "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate.startswith("22")

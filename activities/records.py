"""Record-keeping activity: a thin wrapper that writes one batch of a review's record (peer_review.records)."""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio import activity

from peer_review.domain.models import RecordBatch
from peer_review.records.store import RecordsStore
from peer_review.temporal.metrics import RECORD_LATENCY
from peer_review.temporal.names import RECORD_BATCH


class RecordActivities:
    def __init__(self, store: RecordsStore) -> None:
        self.store = store

    @activity.defn(name=RECORD_BATCH)
    async def record_batch(self, batch: RecordBatch) -> int:
        added = await self.store.write_batch(batch)
        if batch.events:
            # How far the system of record trails the review: from the oldest event in the batch to now.
            lag = (datetime.now(UTC) - batch.events[0].at).total_seconds()
            activity.metric_meter().create_histogram_float(RECORD_LATENCY, unit="s").record(max(lag, 0.0))
        activity.logger.debug("recorded audit events", extra={"added": added})
        return added

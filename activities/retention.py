"""Retention activities: thin wrappers over peer_review.records.retention (disposal in batches, a run's counts); the
batches themselves run in a process of their own (peer_review.records.disposer)."""

from __future__ import annotations

from dataclasses import asdict

from temporalio import activity

from activities.heartbeats import beating
from peer_review.domain.audit_chain import ChainKey
from peer_review.domain.retention import (
    Candidates,
    DisposalBatch,
    DisposalQuery,
    RetentionResult,
    RunSummary,
    retention_cutoff,
)
from peer_review.records import retention
from peer_review.records.disposer import Disposer
from peer_review.records.store import RecordsStore
from peer_review.temporal.codec import KeyRing
from peer_review.temporal.names import DISPOSAL_CANDIDATES, DISPOSE_BATCH, RETENTION_COUNTS

# A batch heartbeats while its transaction runs, so a batch on a worker that died is tried again within the
# workflow's heartbeat timeout rather than its much longer start-to-close timeout.
HEARTBEAT_EVERY_SECONDS = 3.0


class RetentionActivities:
    def __init__(self, store: RecordsStore, chain_ring: KeyRing, years: int) -> None:
        self.store = store
        self.chain_key = ChainKey(chain_ring.newest, chain_ring.keys[chain_ring.newest])
        self.chain_keys = dict(chain_ring.keys)
        self.years = years
        self.disposer = Disposer(store)

    def close(self) -> None:
        self.disposer.close()

    @activity.defn(name=DISPOSAL_CANDIDATES)
    async def disposal_candidates(self, query: DisposalQuery) -> Candidates:
        cutoff = retention_cutoff(query.now, self.years)
        total, ids = await retention.disposable(self.store, cutoff, query.limit)
        return Candidates(cutoff=cutoff, total=total, referral_ids=ids)

    @activity.defn(name=DISPOSE_BATCH)
    async def dispose_batch(self, batch: DisposalBatch) -> int:
        async with beating(HEARTBEAT_EVERY_SECONDS):
            disposed = await self.disposer.dispose(
                batch,
                cutoff=retention_cutoff(batch.now, self.years),
                chain_key=self.chain_key,
                chain_keys=self.chain_keys,
            )
        activity.logger.info("disposed of reviews past retention", extra={"reviews": disposed})
        return disposed

    @activity.defn(name=RETENTION_COUNTS)
    async def retention_counts(self, summary: RunSummary) -> RetentionResult:
        counts = await retention.run_counts(self.store, summary.run)
        return RetentionResult(
            run=summary.run,
            dry_run=False,
            now=summary.now,
            cutoff=retention_cutoff(summary.now, self.years),
            batches=summary.batches,
            **asdict(counts),
        )

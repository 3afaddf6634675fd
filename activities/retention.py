"""Retention activities: thin wrappers over peer_review.records.retention (disposal in batches, a run's counts)."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
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
from peer_review.records.store import RecordsStore
from peer_review.temporal.codec import KeyRing
from peer_review.temporal.names import DISPOSAL_CANDIDATES, DISPOSE_BATCH, RETENTION_COUNTS

# A batch heartbeats while its transaction runs, so a batch on a worker that died is tried again within the
# workflow's heartbeat timeout rather than its much longer start-to-close timeout.
HEARTBEAT_EVERY_SECONDS = 3.0
# Checking a batch's chains and sealing its certificates (the run's CPU work) happens in a process of its own at this
# lower priority: it never holds the worker's interpreter lock, and gives way to decisions for the CPU.
CERTIFIER_NICENESS = 10


def _give_way() -> None:
    os.nice(CERTIFIER_NICENESS)


class RetentionActivities:
    def __init__(self, store: RecordsStore, chain_ring: KeyRing, years: int) -> None:
        self.store = store
        self.chain_key = ChainKey(chain_ring.newest, chain_ring.keys[chain_ring.newest])
        self.chain_keys = dict(chain_ring.keys)
        self.years = years
        self._certifier: ProcessPoolExecutor | None = None

    def certifier(self) -> ProcessPoolExecutor:
        # Started by the first batch (most days a run disposes of nothing); spawned, as the worker has threads.
        if self._certifier is None:
            self._certifier = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=_give_way
            )
        return self._certifier

    def close(self) -> None:
        if self._certifier is not None:
            self._certifier.shutdown(wait=False, cancel_futures=True)

    @activity.defn(name=DISPOSAL_CANDIDATES)
    async def disposal_candidates(self, query: DisposalQuery) -> Candidates:
        cutoff = retention_cutoff(query.now, self.years)
        total, ids = await retention.disposable(self.store, cutoff, query.limit)
        return Candidates(cutoff=cutoff, total=total, referral_ids=ids)

    @activity.defn(name=DISPOSE_BATCH)
    async def dispose_batch(self, batch: DisposalBatch) -> int:
        async with beating(HEARTBEAT_EVERY_SECONDS):
            disposed = await retention.dispose_batch(
                self.store,
                batch,
                cutoff=retention_cutoff(batch.now, self.years),
                chain_key=self.chain_key,
                chain_keys=self.chain_keys,
                certifier=self.certifier(),
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

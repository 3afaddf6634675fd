"""What every request needs: the Temporal client, the records database and the staff directory.

Connections are made on first use, not at start-up, so the API comes up (and answers 503) while Temporal
or the database is still starting, and recovers by itself once they answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import SQLAlchemyError

from peer_review.domain.audit_chain import ChainKey
from peer_review.domain.staff_directory import Directory, load_directory
from peer_review.records.store import AccessEntry, RecordsStore
from peer_review.settings import Settings
from peer_review.temporal.client import PeerReviewClient, ServiceUnavailable, load_keys
from peer_review.temporal.codec import KeyRing
from peer_review.temporal.key_rings import load_chain_ring
from peer_review.temporal.proofs import ProofSigner
from peer_review.web.auth import Credentials, TokenVerifier, signer_for
from peer_review.web.config import ApiSettings


class RecordsUnavailable(ServiceUnavailable):
    """The records database did not answer (mapped to 503 like an unreachable Temporal)."""


class Services:
    def __init__(
        self,
        settings: Settings,
        api: ApiSettings,
        reviews: PeerReviewClient | None = None,
        store: RecordsStore | None = None,
    ) -> None:
        self.settings = settings
        self.api = api
        self.tokens = TokenVerifier(api)
        self._reviews = reviews
        self._store = store
        self._schema_ready = False
        self._owns_store = store is None
        self._lock = asyncio.Lock()
        self._schema_lock = asyncio.Lock()
        self._api_signer: ProofSigner | None = None
        self._chain_ring: KeyRing | None = None

    async def reviews(self) -> PeerReviewClient:
        if self._reviews is None:
            async with self._lock:
                if self._reviews is None:
                    # Raises ServiceUnavailable (503) while Temporal is down; the next request tries again.
                    self._reviews = await PeerReviewClient.connect(self.settings)
        return self._reviews

    async def reviews_for(self, credentials: Credentials) -> PeerReviewClient:
        """The client for one request's actions: its proofs name only the person the verified token names."""
        return (await self.reviews()).signed_by(signer_for(credentials, self.api_signer()))

    def api_signer(self) -> ProofSigner:
        if self._api_signer is None:
            self._api_signer = load_keys(lambda: ProofSigner.for_api(self.settings), "the API cannot sign actions")
        return self._api_signer

    def _chain(self) -> KeyRing:
        if self._chain_ring is None:
            self._chain_ring = load_keys(lambda: load_chain_ring(self.settings), "the audit chain cannot be checked")
        return self._chain_ring

    def chain_keys(self) -> dict[str, bytes]:
        """The audit chain's keys, to check records with."""
        return dict(self._chain().keys)

    def sealing_key(self) -> ChainKey:
        """The newest chain key: it seals what the API writes to the retention register (holds and releases)."""
        ring = self._chain()
        return ChainKey(ring.newest, ring.keys[ring.newest])

    async def log_access(self, entry: AccessEntry) -> None:
        async with self.records() as store:
            await store.log_access(entry)

    def directory(self) -> Directory:
        return load_directory(self.settings.directory)

    @asynccontextmanager
    async def records(self) -> AsyncIterator[RecordsStore]:
        """The records store, with any database failure turned into RecordsUnavailable."""
        try:
            if self._store is None:
                self._store = RecordsStore.from_url(self.settings.records_url)
            if not self._schema_ready:
                # The worker creates the schema too; doing it here lets the pages open before the first review.
                # Once: the first requests after a start would otherwise each wait on the others' DDL.
                async with self._schema_lock:
                    if not self._schema_ready:
                        await self._store.create_schema()
                        self._schema_ready = True
            yield self._store
        except (SQLAlchemyError, OSError) as error:
            raise RecordsUnavailable(f"the records database did not answer: {type(error).__name__}") from None

    async def close(self) -> None:
        if self._store is not None and self._owns_store:
            await self._store.close()

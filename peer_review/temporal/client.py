"""A typed client for peer reviews, used by the CLI, the tests and any HTTP front end.

It turns Temporal's errors into four plain outcomes that callers map to exit codes or HTTP statuses:
invalid input, a rejected action, an unknown referral, and an unreachable service.

Every start, update and signal it sends carries proof of the acting person (peer_review.temporal.proofs): made
with the operator's signing key unless the caller (the HTTP API) gives its own signer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel
from temporalio.client import (
    Client,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from peer_review.domain.lifecycle import ActionName, ReadScope, RejectionKind
from peer_review.domain.models import (
    ActionPayload,
    AuditEvent,
    ChairDecision,
    RecommendationAct,
    RecommendationView,
    Referral,
    RelatedReview,
    ReviewInput,
    Status,
    StatusView,
    recommendation_workflow_id,
)
from peer_review.domain.proofs import payload_digest
from peer_review.domain.recommendations import RecommendationAction
from peer_review.domain.review_selection import ReviewSelection
from peer_review.domain.staff_directory import DirectoryError, load_directory
from peer_review.settings import Settings
from peer_review.temporal import search_attributes as sa
from peer_review.temporal.codec import KeyRingError
from peer_review.temporal.connection import connect
from peer_review.temporal.history_decoding import decoded_events
from peer_review.temporal.proofs import ProofAttacher, ProofRefused, ProofSigner, on_behalf_of, with_sealed_headers

WORKFLOW_TYPE = "PeerReviewWorkflow"
V = TypeVar("V", bound=BaseModel)
T = TypeVar("T")


class ReviewError(Exception):
    exit_code = 1


class InvalidInput(ReviewError):
    exit_code = 2


class ActionRejected(ReviewError):
    exit_code = 3

    def __init__(self, message: str, kind: RejectionKind = RejectionKind.INVALID_STATE) -> None:
        super().__init__(message)
        self.kind = kind


class ReferralNotFound(ReviewError):
    exit_code = 4


class ServiceUnavailable(ReviewError):
    exit_code = 1


def load_keys(load: Callable[[], T], failure: str) -> T:
    """`load()` a key ring or what is made from one; a key ring that cannot be read is a ReviewError, `failure: why`."""
    try:
        return load()
    except KeyRingError as error:
        raise ReviewError(f"{failure}: {error}") from None


def workflow_id(referral_id: str) -> str:
    return f"peer-review-{referral_id}"


class ReferResult(BaseModel):
    referral_id: str
    workflow_id: str
    status: Status
    already_started: bool
    # Other reviews of the same case or customer, from the records database (filled in by the CLI and the API;
    # None when it could not be read). Reported, never a refusal.
    related: list[RelatedReview] | None = None


@dataclass(frozen=True)
class ListFilter(ReviewSelection):
    """The list's criteria as a visibility query of running and closed review workflows."""

    # Only what the reader may read: the scope's OSNs, and `readable_ids` (the reviews assigned to them or
    # referred by them, from the records database). None: everything.
    scope: ReadScope | None = None
    readable_ids: tuple[str, ...] = field(default=())

    @property
    def reads_nothing(self) -> bool:
        return self.scope is not None and not self.scope.everything and not self.scope.osns and not self.readable_ids

    def query(self) -> str:
        clauses = [f"WorkflowType = '{WORKFLOW_TYPE}'"]
        if self.scope is not None and not self.scope.everything:
            either = [f"{sa.OSN.name} = '{_quoted(osn)}'" for osn in sorted(self.scope.osns)]
            either += [f"WorkflowId = '{_quoted(workflow_id(ref))}'" for ref in self.readable_ids]
            clauses.append("(" + " OR ".join(either or ["false"]) + ")")
        if self.status:
            clauses.append(f"{sa.STATUS.name} = '{self.status.value}'")
        if self.osn:
            clauses.append(f"{sa.OSN.name} = '{_quoted(self.osn)}'")
        if self.reason:
            clauses.append(f"{sa.REASONS.name} = '{self.reason.value}'")
        if self.overdue:
            clauses.append(f"{sa.OVERDUE.name} = true")
        return " AND ".join(clauses)


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


class ListedReview(BaseModel):
    referral_id: str
    status: str | None
    osn: str | None
    reasons: list[str]
    mandatory: bool | None
    overdue: bool
    due_at: datetime | None
    started_at: datetime | None
    running: bool


class PeerReviewClient:
    def __init__(self, client: Client, settings: Settings, signer: ProofSigner | None = None) -> None:
        self.settings = settings
        self._signer = signer
        self._connection = client
        # Every message this client sends is signed by one interceptor; headers are sealed like payloads.
        self.client = with_sealed_headers(client, ProofAttacher(self.signer))

    @property
    def system(self) -> Client:
        """The connection without proofs of a person: for the system's own workflows (retention), which no person
        starts and whose worker checks no proofs."""
        return self._connection

    @property
    def connection(self) -> Client:
        """The Temporal client this one wraps, which signs nothing: what any client with the codec can do."""
        return self._connection

    def signed_by(self, signer: ProofSigner) -> PeerReviewClient:
        """The same connection, proving its requests with `signer` (the HTTP API: one bound to the signed-in person)."""
        return PeerReviewClient(self._connection, self.settings, signer)

    def signer(self) -> ProofSigner:
        """The operator's signer unless another was given; loaded on first use, so reading needs no signing key."""
        if self._signer is None:
            self._signer = load_keys(lambda: ProofSigner.for_operator(self.settings), "cannot sign the request")
        return self._signer

    @classmethod
    async def connect(cls, settings: Settings, signer: ProofSigner | None = None) -> PeerReviewClient:
        try:
            client = await connect(settings)
        except (KeyRingError, OSError) as error:
            raise ReviewError(str(error)) from None
        except RuntimeError as error:
            raise ServiceUnavailable(
                f"cannot reach the Temporal server at {settings.temporal_address}: is it running? ({error})"
            ) from None
        return cls(client, settings, signer)

    def _handle(self, referral_id: str) -> WorkflowHandle[object, StatusView]:
        return self.client.get_workflow_handle(workflow_id(referral_id), result_type=StatusView)

    async def refer(self, referral: Referral, *, integration: str | None = None) -> ReferResult:
        """Start a review, or return the one already started for this referral id. `integration`: the directory id
        of a system referring on behalf of the referrer the referral names (the record says so)."""
        try:
            problems = load_directory(self.settings.directory).referral_problems(referral)
        except DirectoryError as error:
            raise ReviewError(str(error)) from None
        if problems:
            raise InvalidInput("; ".join(problems))
        wid = workflow_id(referral.referral_id)
        try:
            with on_behalf_of(integration):
                await self.client.start_workflow(
                    WORKFLOW_TYPE,
                    ReviewInput(referral=referral, policy=self.settings.policy),
                    id=wid,
                    task_queue=self.settings.task_queue,
                    search_attributes=sa.at_start(referral),
                    # One review per referral id, ever: a repeat start returns the existing review.
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                    id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                )
        except ProofRefused as error:
            raise ActionRejected(str(error), RejectionKind.NOT_PERMITTED) from None
        except WorkflowAlreadyStartedError:
            status = await self._current_status(referral.referral_id)
            return ReferResult(referral_id=referral.referral_id, workflow_id=wid, status=status, already_started=True)
        except RPCError as error:
            raise _service_error(error) from None
        return ReferResult(
            referral_id=referral.referral_id, workflow_id=wid, status=Status.REFERRED, already_started=False
        )

    async def _current_status(self, referral_id: str) -> Status:
        description = await self._describe(referral_id)
        value = description.typed_search_attributes.get(sa.STATUS)
        return Status(value) if value else Status.REFERRED

    async def _describe(self, referral_id: str) -> WorkflowExecutionDescription:
        try:
            return await self._handle(referral_id).describe()
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                raise ReferralNotFound(f"no review for referral {referral_id}") from None
            raise _service_error(error) from None

    async def act(
        self, referral_id: str, action: ActionName, payload: ActionPayload, *, request_id: str | None = None
    ) -> StatusView:
        """Run a human action as an update and return the review's new status, or say why not.

        `request_id` (an HTTP Idempotency-Key, or one per CLI invocation) makes a retry of the same request the same
        update, which Temporal answers with the first result instead of running it again.
        """
        try:
            return await self._update(self._handle(referral_id), action, payload, StatusView, request_id)
        except RPCError as error:
            await self._raise_for_closed_or_missing(referral_id, error)
            raise

    async def act_on_recommendation(
        self, rec_id: str, action: RecommendationAction, payload: RecommendationAct, *, request_id: str | None = None
    ) -> RecommendationView:
        """Run an action on a tracked recommendation (an update of its workflow), like `act` for a review."""
        handle = self._recommendation_handle(rec_id)
        try:
            return await self._update(handle, action, payload, RecommendationView, request_id)
        except RPCError as error:
            await self._raise_for_finished_recommendation(rec_id, error)
            raise

    async def recommendation(self, rec_id: str) -> RecommendationView:
        """Where a tracked recommendation stands (its workflow's `status` query)."""
        handle = self._recommendation_handle(rec_id)
        try:
            try:
                view: RecommendationView = await handle.query("status", result_type=RecommendationView)
            except RPCError as error:
                await self._raise_for_finished_recommendation(rec_id, error)
                # Started between the query and the look that followed it: ask again.
                view = await handle.query("status", result_type=RecommendationView)
            return view
        except WorkflowQueryFailedError as error:
            raise ReviewError(f"status query failed: {error}") from None
        except RPCError as error:
            raise _service_error(error) from None

    def _recommendation_handle(self, rec_id: str) -> WorkflowHandle[object, RecommendationView]:
        return self.client.get_workflow_handle(recommendation_workflow_id(rec_id), result_type=RecommendationView)

    async def _raise_for_finished_recommendation(self, rec_id: str, error: RPCError) -> None:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise _service_error(error) from None
        try:
            description = await self._recommendation_handle(rec_id).describe()
        except RPCError as missing:
            if missing.status == RPCStatusCode.NOT_FOUND:
                raise ReferralNotFound(f"no tracked recommendation {rec_id}") from None
            raise _service_error(missing) from None
        if description.status != WorkflowExecutionStatus.RUNNING:
            raise ActionRejected(f"recommendation {rec_id} is closed (verified or not accepted)") from None

    async def _update(
        self,
        handle: WorkflowHandle[object, Any],
        action: StrEnum,
        payload: ActionPayload,
        result_type: type[V],
        request_id: str | None,
    ) -> V:
        try:
            result: V = await handle.execute_update(
                action.value, payload, id=update_id(action, payload, request_id), result_type=result_type
            )
            return result
        except WorkflowUpdateFailedError as error:
            cause = error.cause
            if isinstance(cause, ApplicationError):
                if cause.type == UNAVAILABLE:
                    raise ServiceUnavailable(cause.message) from None
                # The workflow has written a proven person's refusal to the record itself.
                raise ActionRejected(cause.message, _kind(cause.type)) from None
            raise ReviewError(f"{action.value} failed: {cause}") from None
        except ProofRefused as error:
            raise ActionRejected(str(error), RejectionKind.NOT_PERMITTED) from None

    async def signal_chair_decision(self, referral_id: str, decision: ChairDecision) -> None:
        try:
            await self._handle(referral_id).signal("chair_decision", decision)
        except ProofRefused as error:
            raise ActionRejected(str(error), RejectionKind.NOT_PERMITTED) from None
        except RPCError as error:
            await self._raise_for_closed_or_missing(referral_id, error)
            raise

    async def status(self, referral_id: str) -> StatusView:
        try:
            view: StatusView = await self._handle(referral_id).query("status", result_type=StatusView)
            return view
        except WorkflowQueryFailedError as error:
            raise ReviewError(f"status query failed: {error}") from None
        except RPCError as error:
            await self._raise_for_closed_or_missing(referral_id, error)
            raise

    async def current_status(self, referral_id: str, recorded: StatusView | None) -> StatusView:
        """Where a review stands: `recorded` (the records database's view) when it agrees with what the workflow
        published (search_attributes.agrees), else the workflow's own answer.

        The check is a describe call, which the server answers alone. A query is a workflow task: for a review
        out of the worker's cache, a replay of its whole history, queued behind the worker's other work.
        """
        if recorded is not None and sa.agrees((await self._describe(referral_id)).typed_search_attributes, recorded):
            return recorded
        return await self.status(referral_id)

    async def audit_trail(self, referral_id: str) -> list[AuditEvent]:
        try:
            events: list[AuditEvent] = await self._handle(referral_id).query(
                "audit_trail", result_type=list[AuditEvent]
            )
            return events
        except RPCError as error:
            await self._raise_for_closed_or_missing(referral_id, error)
            raise

    async def history_events(self, referral_id: str) -> list[dict[str, object]]:
        await self._describe(referral_id)
        history = await self._handle(referral_id).fetch_history()
        return await decoded_events(history, self.client.data_converter)

    async def list(self, selection: ListFilter, limit: int | None = None) -> list[ListedReview]:
        reviews: list[ListedReview] = []
        if selection.reads_nothing:
            return reviews
        try:
            pages = self.client.list_workflows(selection.query(), limit=limit, page_size=min(limit or 1000, 1000))
            async for execution in pages:
                attributes = execution.typed_search_attributes
                reviews.append(
                    ListedReview(
                        referral_id=execution.id.removeprefix("peer-review-"),
                        status=attributes.get(sa.STATUS),
                        osn=attributes.get(sa.OSN),
                        reasons=list(attributes.get(sa.REASONS) or []),
                        mandatory=attributes.get(sa.MANDATORY),
                        overdue=bool(attributes.get(sa.OVERDUE)),
                        due_at=attributes.get(sa.DUE_AT),
                        started_at=execution.start_time,
                        running=execution.status == WorkflowExecutionStatus.RUNNING,
                    )
                )
        except RPCError as error:
            raise _service_error(error) from None
        return reviews

    async def count(self, selection: ListFilter) -> int:
        if selection.reads_nothing:
            return 0
        try:
            return (await self.client.count_workflows(selection.query())).count
        except RPCError as error:
            raise _service_error(error) from None

    async def _raise_for_closed_or_missing(self, referral_id: str, error: RPCError) -> None:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise _service_error(error) from None
        description = await self._describe(referral_id)
        if description.status != WorkflowExecutionStatus.RUNNING:
            how = description.status.name.lower() if description.status else "closed"
            raise ActionRejected(f"review {referral_id} has finished ({how})") from None


UNAVAILABLE = "Unavailable"


def update_id(action: StrEnum, payload: ActionPayload, request_id: str | None) -> str | None:
    """The same request (action, payload and request id) always makes the same update id; no id, a fresh one."""
    if request_id is None:
        return None
    digest = hashlib.sha256(f"{action.value}\n{request_id}\n{payload_digest([payload])}".encode()).hexdigest()
    return f"{action.value}-{digest[:40]}"


def _kind(error_type: str | None) -> RejectionKind:
    try:
        return RejectionKind(error_type or "")
    except ValueError:
        return RejectionKind.INVALID_STATE


def _service_error(error: RPCError) -> ReviewError:
    if error.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
        return ServiceUnavailable(f"the Temporal server did not answer: {error.message}")
    return ReviewError(f"Temporal refused the request: {error.message}")

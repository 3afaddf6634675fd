"""How both workflows take a person's action: one update per action, judged one way.

A person's action arrives as a workflow update named as the action (the names come from the action tables in
peer_review.domain). `action_update` builds that update, with its validator, from the method that performs the
action, so a workflow lists its actions one line each. `HumanActions`, the workflows' base, judges every request
the same way: the validator refuses before history only what would be refused once the daily allowance of recorded
refusals is spent; the handler waits until the contacts are known, judges, and writes a proven person's refusal to
the record before raising it. Runs inside the workflow: no I/O.
"""

from __future__ import annotations

import abc
import contextlib
import inspect
import typing
from collections.abc import Awaitable, Callable, Iterator
from enum import StrEnum
from typing import Any, Generic, TypeVar

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from peer_review.domain.lifecycle import Rejection
    from peer_review.domain.models import ActionPayload, AuditEvent, RecommendationStatus, Status
    from peer_review.temporal.metrics import Metric
    from peer_review.temporal.proof_checks import proven

from workflows.side_effects import RecordKeeper, count

ActionT = TypeVar("ActionT", bound=StrEnum)
StatusT = TypeVar("StatusT", Status, RecommendationStatus)
WorkflowT = TypeVar("WorkflowT", bound="HumanActions[Any, Any]")
RequestT = TypeVar("RequestT", bound=ActionPayload)
ViewT = TypeVar("ViewT")
Check = Callable[[], None]


def rejected(rejection: Rejection) -> ApplicationError:
    """A domain rule's refusal as the workflow raises it: final, typed by its kind."""
    return ApplicationError(rejection.reason, type=rejection.kind.value, non_retryable=True)


def proven_by() -> str | None:
    """How the person acting in the current handler was proven, as the record says it."""
    proof = proven()
    return proof.attribution() if proof else None


class HumanActions(abc.ABC, Generic[ActionT, StatusT]):
    """The part of a workflow that judges people's requests; the workflow says who may do what (`_authorise`)."""

    _records: RecordKeeper[Any]
    _status: StatusT
    _contacts: object | None  # who holds which post; None until the first directory look-up has answered

    @workflow.query
    def audit_trail(self) -> list[AuditEvent]:
        return list(self._records.events)

    @abc.abstractmethod
    def _authorise(self, action: ActionT, request: ActionPayload) -> None:
        """Raise an ApplicationError unless the request's actor may take `action` now."""

    async def judge(self, action: ActionT, request: ActionPayload, *checks: Check) -> None:
        """Wait until the contacts are known, then judge the request (see `judge_again`)."""
        await workflow.wait_condition(lambda: self._contacts is not None)
        self.judge_again(action, request, *checks)

    def judge_again(self, action: ActionT, request: ActionPayload, *checks: Check) -> None:
        """Refuse the request (recording the refusal) unless the action is allowed now and the request passes
        `checks`; after a look-up the workflow may have moved on, so a handler judges once more before acting."""
        with self._refusal_recorded(action, request.actor):
            self._allow(action, request, checks)

    def validate(self, action: ActionT, request: ActionPayload, *checks: Check) -> None:
        """A proven person's request goes on to its handler, which judges it and records any refusal. Once today's
        allowance of recorded refusals is spent, a request that would be refused is refused here instead, before
        anything enters history, and only counted."""
        # Until the contacts are known, only the handler (after waiting) can judge.
        if self._contacts is None or self._records.refusal_room():
            return
        try:
            self._allow(action, request, checks)
        except ApplicationError:
            count(Metric.REFUSALS_NOT_RECORDED, action=action.value)
            raise

    def _allow(self, action: ActionT, request: ActionPayload, checks: tuple[Check, ...]) -> None:
        self._authorise(action, request)
        for check in checks:
            check()

    @contextlib.contextmanager
    def _refusal_recorded(self, action: ActionT, actor: str) -> Iterator[None]:
        """Every refusal of a proven person is written to the record (up to the daily allowance), then raised.

        A look-up that gave up (type Unavailable) is no refusal of the person: it is raised as it is.
        """
        try:
            yield
        except ApplicationError as refusal:
            if refusal.type != "Unavailable":
                self._records.refusal(actor, action, refusal.type or "", refusal.message, self._status, proven_by())
            raise


def _annotation(function: Callable[..., Any], name: str) -> Any:
    """The type `function`'s parameter `name` (or "return") is annotated with, as typing.get_type_hints gives it.

    Annotations are strings in these modules. A plain name is looked up in the function's module, which is what
    get_type_hints does with it after parsing and compiling the string; the sandbox builds the workflow classes
    again each time it loads a workflow, and that parsing was most of what running a class body cost. Anything
    else goes to get_type_hints.
    """
    annotation = function.__annotations__[name]
    if isinstance(annotation, str) and annotation.isidentifier() and annotation in function.__globals__:
        return function.__globals__[annotation]
    return typing.get_type_hints(function)[name]


def action_update(
    action: ActionT,
    perform: Callable[[WorkflowT, ActionT, RequestT], Awaitable[ViewT]],
    check: Callable[[WorkflowT, RequestT], None] | None = None,
) -> workflow.UpdateMethodMultiParam[[WorkflowT, RequestT], Awaitable[ViewT]]:
    """The workflow update named `action`: its validator and its handler judge the request (with `check`, what can
    be checked without a look-up), then the handler calls `perform`, which may look things up and judge again.

    Temporal decodes an update's argument by its handler's annotations, so the handler takes the request type and
    the result type that `perform` declares.
    """
    request_type = _annotation(perform, list(inspect.signature(perform).parameters)[2])
    view_type = _annotation(perform, "return")

    def checks(self: WorkflowT, request: RequestT) -> tuple[Check, ...]:
        return () if check is None else (lambda: check(self, request),)

    async def handler(self: WorkflowT, request: RequestT) -> ViewT:
        await self.judge(action, request, *checks(self, request))
        return await perform(self, action, request)

    def validator(self: WorkflowT, request: RequestT) -> None:
        self.validate(action, request, *checks(self, request))

    handler.__annotations__ = {"request": request_type, "return": view_type}
    validator.__annotations__ = {"request": request_type, "return": None}
    update = workflow.update(name=action.value)(handler)
    update.validator(validator)
    return update

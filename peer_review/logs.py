"""structlog setup: JSON lines in production (or whenever stdout is not a terminal), colours in a terminal.

Log lines carry ids and statuses only, never names, customer references or case text.
"""

from __future__ import annotations

import logging
import sys
from typing import Literal

import structlog
import temporalio.activity
import temporalio.workflow
from structlog.typing import EventDict, WrappedLogger

# Identifiers only: the SDK's context also holds things like the task queue, which is harmless, but never
# payloads; these are the keys an operator searches logs by.
_WORKFLOW_KEYS = {"workflow_id": "workflow_id", "run_id": "run_id", "workflow_type": "workflow_type"}
_ACTIVITY_KEYS = {"activity_type": "activity", "workflow_id": "workflow_id", "workflow_run_id": "run_id"}


def _temporal_context(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    """Lift the SDK's nested context into flat fields, and derive the referral id from the workflow id."""
    for nested, keys in (("temporal_workflow", _WORKFLOW_KEYS), ("temporal_activity", _ACTIVITY_KEYS)):
        context = event.pop(nested, None)
        if isinstance(context, dict):
            for source, target in keys.items():
                if source in context:
                    event.setdefault(target, context[source])
    workflow_id = event.get("workflow_id")
    if isinstance(workflow_id, str) and workflow_id.startswith("peer-review-"):
        event.setdefault("referral_id", workflow_id.removeprefix("peer-review-"))
    return event


def configure_logging(log_format: Literal["auto", "json", "console"] = "auto", level: str = "info") -> None:
    as_json = log_format == "json" or (log_format == "auto" and not sys.stderr.isatty())
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer()
    )
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        _temporal_context,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    # The SDK's workflow and activity loggers put their context in `extra`; keep it out of the message.
    temporalio.workflow.logger.workflow_info_on_message = False
    temporalio.activity.logger.activity_info_on_message = False
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    # The Temporal SDK logs through the standard library; send those lines through the same renderer.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())

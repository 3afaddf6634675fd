"""What a finished workflow leaves in Temporal: events by type and payload bytes."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import History
from temporalio.client import Client

ACTIVITY = "ACTIVITY_TASK_SCHEDULED"
UPDATE = "WORKFLOW_EXECUTION_UPDATE_ACCEPTED"
TIMER = "TIMER_STARTED"


@dataclass(frozen=True)
class HistoryFigures:
    """One history: its size in bytes, and its events and payload bytes by event type."""

    history_bytes: int
    by_type: dict[str, int]
    payload_bytes_by_type: dict[str, int]

    @property
    def events(self) -> int:
        return sum(self.by_type.values())

    @property
    def payload_bytes(self) -> int:
        return sum(self.payload_bytes_by_type.values())

    def count(self, kind: str) -> int:
        return self.by_type.get(kind, 0)


def payload_bytes(message: Message) -> int:
    """Sum of Payload.data sizes anywhere in a message (inputs, results, headers, memo, search attributes)."""
    if isinstance(message, Payload):
        return len(message.data)
    total = 0
    for descriptor, value in message.ListFields():
        if descriptor.type != FieldDescriptor.TYPE_MESSAGE:
            continue
        kind = descriptor.message_type
        assert kind is not None  # every message-typed field has one
        if kind.GetOptions().map_entry:
            if kind.fields_by_name["value"].type == FieldDescriptor.TYPE_MESSAGE:
                total += sum(payload_bytes(item) for item in value.values())
        elif descriptor.is_repeated:
            total += sum(payload_bytes(item) for item in value)
        else:
            total += payload_bytes(value)
    return total


def figures_of(history: History) -> HistoryFigures:
    kinds: Counter[str] = Counter()
    sizes: Counter[str] = Counter()
    for event in history.events:
        kind = EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")
        kinds[kind] += 1
        sizes[kind] += payload_bytes(event)
    return HistoryFigures(
        history_bytes=history.ByteSize(),
        by_type=dict(kinds),
        payload_bytes_by_type={kind: size for kind, size in sizes.items() if size},
    )


async def fetch_figures(client: Client, workflow_id: str) -> HistoryFigures:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return figures_of(History(events=history.events))


@dataclass(frozen=True)
class Spread:
    """The median and the largest of one figure over the sampled histories."""

    median: float
    max: float

    @classmethod
    def of(cls, values: Iterable[float]) -> Spread:
        found = list(values)
        return cls(statistics.median(found), max(found))


@dataclass(frozen=True)
class HistorySummary:
    """Over a sample of finished reviews: event counts and payload bytes vary a little with batching."""

    sampled: int
    events: Spread
    payload_bytes: Spread
    history_bytes_median: float
    by_type_median: dict[str, float]
    payload_bytes_by_type_median: dict[str, float]


def summarise(samples: Iterable[HistoryFigures]) -> HistorySummary:
    items = list(samples)
    kinds = sorted({kind for item in items for kind in item.by_type})
    sized = sorted({kind for item in items for kind in item.payload_bytes_by_type})
    return HistorySummary(
        sampled=len(items),
        events=Spread.of(i.events for i in items),
        payload_bytes=Spread.of(i.payload_bytes for i in items),
        history_bytes_median=statistics.median(i.history_bytes for i in items),
        by_type_median={k: statistics.median(i.count(k) for i in items) for k in kinds},
        payload_bytes_by_type_median={
            k: statistics.median(i.payload_bytes_by_type.get(k, 0) for i in items) for k in sized
        },
    )

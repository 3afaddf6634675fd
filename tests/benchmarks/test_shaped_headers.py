"""The shaped twin sends headers as large as the review's proofs, sealed by the same codec: the server stores and
the worker unseals as many bytes for the twin as for the project."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from temporalio.api.common.v1 import Payload
from temporalio.api.history.v1 import History
from temporalio.client import OutboundInterceptor, WorkflowHistory

from benchmarks.history import payload_bytes
from benchmarks.shape import shape_of
from benchmarks.shaped_twin import PADDING_HEADER, HeaderPadding, padded_headers, shaped_twin
from tests.helpers.temporal import TEST_CONVERTER

# A standard-path review recorded by the real worker with the test key ring (tests/replay).
REVIEW = Path(__file__).resolve().parent.parent / "replay" / "histories" / "approved_completed.json"


def review_history() -> History:
    recorded = WorkflowHistory.from_json("approved-completed", REVIEW.read_text())
    return History(events=recorded.events)


class Sent(OutboundInterceptor):
    """The end of the client's chain: keeps the headers each start and update would have sent."""

    def __init__(self) -> None:
        super().__init__(cast(OutboundInterceptor, None))
        self.headers: list[dict[str, Any]] = []

    async def start_workflow(self, input: Any) -> Any:
        self.headers.append(input.headers)

    async def start_workflow_update(self, input: Any) -> Any:
        self.headers.append(input.headers)


async def sealed_size(header: Payload) -> int:
    codec = TEST_CONVERTER.payload_codec
    assert codec is not None  # the test converter encrypts
    [sealed] = await codec.encode([header])
    return len(sealed.data)


def test_the_shape_holds_the_size_of_each_proof_header() -> None:
    history = review_history()
    shape = shape_of(history)
    started = history.events[0].workflow_execution_started_event_attributes
    accepted = [
        event.workflow_execution_update_accepted_event_attributes.accepted_request.input
        for event in history.events
        if event.HasField("workflow_execution_update_accepted_event_attributes")
    ]
    assert shape.start_header_bytes == payload_bytes(started.header) > 0
    assert [step.update_header_bytes for step in shape.steps[1:]] == [payload_bytes(one.header) for one in accepted]
    assert len(accepted) == 4 and all(step.update_header_bytes > 0 for step in shape.steps[1:])


async def test_the_twin_seals_headers_of_the_proofs_sizes_and_none_outside_padding() -> None:
    shape = shape_of(review_history())
    twin = await shaped_twin(shape, TEST_CONVERTER)
    sent = Sent()
    client = HeaderPadding(TEST_CONVERTER.payload_converter).intercept_client(sent)
    with padded_headers(twin.start_header_chars):
        await client.start_workflow(cast(Any, SimpleNamespace(headers={})))
    for chars in twin.update_header_chars:
        with padded_headers(chars):
            await client.start_workflow_update(cast(Any, SimpleNamespace(headers={})))
    await client.start_workflow_update(cast(Any, SimpleNamespace(headers={})))

    *padded, unpadded = sent.headers
    sizes = [await sealed_size(headers[PADDING_HEADER]) for headers in padded]
    assert sizes == [shape.start_header_bytes, *(step.update_header_bytes for step in shape.steps[1:])]
    assert unpadded == {}

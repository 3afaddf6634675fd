"""Decode a workflow's event history for people: payloads shown as the JSON they carry."""

from __future__ import annotations

import base64
import json
from typing import Any

from google.protobuf.json_format import MessageToDict
from temporalio.api.common.v1 import Payload
from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter

from peer_review.temporal.codec import ENCODING


async def decoded_events(history: WorkflowHistory, converter: DataConverter) -> list[dict[str, Any]]:
    events = []
    for event in history.events:
        as_dict = MessageToDict(event)
        events.append(await _decode(as_dict, converter))
    return events


async def _decode(node: Any, converter: DataConverter) -> Any:
    if isinstance(node, list):
        return [await _decode(item, converter) for item in node]
    if not isinstance(node, dict):
        return node
    if "metadata" in node and set(node) <= {"metadata", "data"}:
        return await _payload_value(node, converter)
    return {key: await _decode(value, converter) for key, value in node.items()}


async def _payload_value(node: dict[str, Any], converter: DataConverter) -> Any:
    payload = Payload(
        metadata={k: base64.b64decode(v) for k, v in node["metadata"].items()},
        data=base64.b64decode(node.get("data", "")),
    )
    # Search attributes and anything a client sent unencrypted are shown as they are; the worker refuses the latter.
    if converter.payload_codec is not None and payload.metadata.get("encoding") == ENCODING:
        try:
            payload = (await converter.payload_codec.decode([payload]))[0]
        except Exception as error:  # a payload this key ring cannot open is shown, not fatal
            return {"undecodable": str(error)}
    encoding = payload.metadata.get("encoding", b"").decode()
    if encoding == "json/plain":
        return json.loads(payload.data)
    if encoding == "binary/null":
        return None
    return {"encoding": encoding, "bytes": len(payload.data)}

"""The one data converter used by the worker, every client and every test environment: pydantic JSON, then
AES-GCM encryption (peer_review.temporal.codec) so that nothing stored at the Temporal server is plaintext."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import PydanticPayloadConverter, pydantic_data_converter
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    EncodingPayloadConverter,
    PayloadCodec,
)
from temporalio.exceptions import ApplicationError

from peer_review.temporal.codec import (
    PLAINTEXT_REFUSAL,
    REFUSED_PLAINTEXT,
    UNENCRYPTED_PAYLOAD,
    EncryptionCodec,
    KeyRing,
)


class RefusedPlaintextConverter(EncodingPayloadConverter):
    """What the strict codec made of a payload that arrived unencrypted: an error wherever it is used.

    An ApplicationError, so the SDK refuses the update (or drops the signal, or fails a start) with this message
    instead of failing the workflow task.
    """

    @property
    def encoding(self) -> str:
        return REFUSED_PLAINTEXT.decode()

    def to_payload(self, value: Any) -> Payload | None:
        return None

    def from_payload(self, payload: Payload, type_hint: type | None = None) -> Any:
        raise ApplicationError(PLAINTEXT_REFUSAL, type=UNENCRYPTED_PAYLOAD, non_retryable=True)


class StrictPayloadConverter(PydanticPayloadConverter):
    def __init__(self) -> None:
        super().__init__()
        self._set_converters(RefusedPlaintextConverter(), *self.converters.values())


def data_converter(codec: PayloadCodec | None = None) -> DataConverter:
    if codec is None:
        return pydantic_data_converter
    # Failure messages and stack traces travel as an encoded payload too: a validation error can quote the input
    # it refused (a summary, say), and history must hold no plaintext case details.
    return dataclasses.replace(
        pydantic_data_converter,
        payload_converter_class=StrictPayloadConverter,
        payload_codec=codec,
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


def encrypted_converter(key_file: Path) -> DataConverter:
    return data_converter(EncryptionCodec(KeyRing.load(key_file)))

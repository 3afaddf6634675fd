"""The one data converter used by the worker, every client and every test environment: pydantic JSON, then
AES-GCM encryption (peer_review.temporal.codec) so that nothing stored at the Temporal server is plaintext."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes, PayloadCodec

from peer_review.temporal.codec import EncryptionCodec, KeyRing


def data_converter(codec: PayloadCodec | None = None) -> DataConverter:
    if codec is None:
        return pydantic_data_converter
    # Failure messages and stack traces travel as an encoded payload too: a validation error can quote the input
    # it refused (a summary, say), and history must hold no plaintext case details.
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=codec,
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


def encrypted_converter(key_file: Path) -> DataConverter:
    return data_converter(EncryptionCodec(KeyRing.load(key_file)))

"""The one data converter used by the worker, every client and every test environment."""

from __future__ import annotations

import dataclasses

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, PayloadCodec


def data_converter(codec: PayloadCodec | None = None) -> DataConverter:
    return dataclasses.replace(pydantic_data_converter, payload_codec=codec)

"""The codec server: lets the Temporal Web UI (and `temporal --codec-endpoint`) show decrypted payloads.

It speaks Temporal's remote codec protocol: POST /encode and POST /decode with a JSON body
`{"payloads": [...]}`. Anyone who can reach it can read every review, so a deployment must put
authentication in front of it (see the README's "Security and privacy"); by default it listens on
localhost only and answers browsers from the local Web UI's origin only.
"""

from __future__ import annotations

import asyncio

import uvicorn
from google.protobuf import json_format
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from temporalio.api.common.v1 import Payloads

from peer_review.settings import Settings
from peer_review.temporal.codec import EncryptionCodec, KeyRing, KeyRingError


def codec_app(codec: EncryptionCodec, allowed_origins: list[str]) -> Starlette:
    async def transform(request: Request, decode: bool) -> Response:
        try:
            payloads = json_format.Parse(await request.body(), Payloads())
        except json_format.ParseError as error:
            return JSONResponse({"error": f"not a Payloads document: {error}"}, status_code=400)
        try:
            result = await (codec.decode if decode else codec.encode)(list(payloads.payloads))
        except KeyRingError as error:
            return JSONResponse({"error": str(error)}, status_code=422)
        body = json_format.MessageToJson(Payloads(payloads=result))
        return Response(body, media_type="application/json")

    async def encode(request: Request) -> Response:
        return await transform(request, decode=False)

    async def decode(request: Request) -> Response:
        return await transform(request, decode=True)

    return Starlette(
        routes=[Route("/encode", encode, methods=["POST"]), Route("/decode", decode, methods=["POST"])],
        middleware=[
            Middleware(
                CORSMiddleware,
                allow_origins=allowed_origins,
                allow_methods=["POST"],
                allow_headers=["content-type", "x-namespace", "authorization"],
                allow_credentials=True,
            )
        ],
    )


async def serve_codec(settings: Settings, stop: asyncio.Event) -> None:
    # It only shows payloads to people (and seals what the temporal CLI sends): plaintext is passed through as is.
    codec = EncryptionCodec(KeyRing.load(settings.key_file), strict=False)
    app = codec_app(codec, settings.codec_allowed_origins)
    config = uvicorn.Config(app, host=settings.codec_host, port=settings.codec_port, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    await stop.wait()
    server.should_exit = True
    await task

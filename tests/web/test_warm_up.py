"""The API readied before its first request (peer_review/web/warm_up.py), and the records schema made once however
many first requests arrive together."""

from __future__ import annotations

import asyncio

import pytest

from peer_review.records.store import RecordsStore
from peer_review.settings import Settings
from peer_review.temporal.client import ServiceUnavailable
from peer_review.web import warm_up
from peer_review.web.app import create_app
from peer_review.web.render import templates
from peer_review.web.services import Services
from tests.helpers.web import api_settings, unreachable_settings


async def test_prepare_compiles_every_template_and_routes_a_request_with_nothing_else_up() -> None:
    cache = templates.env.cache
    assert cache is not None
    cache.clear()  # other tests in this process may have compiled some already
    app = create_app(unreachable_settings(), api_settings())

    assert await warm_up.prepare(app) == 404

    compiled = {name for _, name in cache}
    assert compiled == set(templates.env.list_templates())


async def test_connect_leaves_what_is_down_to_the_first_request() -> None:
    services = Services(unreachable_settings(), api_settings())

    await warm_up.connect(services)  # neither raises nor hangs

    with pytest.raises(ServiceUnavailable):
        await services.reviews()


async def test_connect_opens_temporal_and_the_records_database(settings: Settings) -> None:
    services = Services(settings, api_settings())
    records = RecordsStore.from_url(settings.records_url)
    try:
        assert not await records.schema_exists()
        await warm_up.connect(services)
        assert await records.schema_exists()
    finally:
        await services.close()
        await records.close()


async def test_first_requests_arriving_together_make_the_records_schema_once(records_url: str) -> None:
    store = RecordsStore.from_url(records_url)
    made = 0
    create_schema = store.create_schema

    async def counted() -> None:
        nonlocal made
        made += 1
        await create_schema()

    store.create_schema = counted  # type: ignore[method-assign]
    services = Services(unreachable_settings(), api_settings(), store=store)

    async def first_request() -> None:
        async with services.records():
            pass

    try:
        await asyncio.gather(*(first_request() for _ in range(10)))
    finally:
        await store.close()
    assert made == 1

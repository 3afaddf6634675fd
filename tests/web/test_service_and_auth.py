"""503 when Temporal or the records database is unreachable; RS256 tokens; the published documents."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from peer_review.settings import Settings
from peer_review.web import openapi as docs
from peer_review.web.app import create_app
from peer_review.web.config import ApiSettings
from tests.helpers import referral
from tests.helpers.staff import AUDITOR, CHAIR, REFERRER
from tests.helpers.web import api_settings, as_, token, unreachable_settings


def client_for(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api.test")  # type: ignore[arg-type]


@pytest.fixture
async def unreachable(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """Temporal and the (PostgreSQL) records database are both down."""
    async with client_for(create_app(unreachable_settings(), api_settings())) as http:
        yield http


async def test_503_when_temporal_or_the_records_database_is_unreachable(unreachable: httpx.AsyncClient) -> None:
    requests = [
        unreachable.get("/referrals/PR-1", headers=as_(CHAIR)),
        unreachable.get("/referrals", headers=as_(CHAIR)),
        unreachable.post(
            "/referrals", json=referral(referred_by=REFERRER).model_dump(mode="json"), headers=as_(REFERRER)
        ),
        unreachable.post("/referrals/PR-1/approve", json={}, headers=as_(CHAIR)),
        unreachable.get("/referrals/PR-1/audit", headers=as_(AUDITOR)),
    ]
    for request in requests:
        response = await request
        assert response.status_code == 503, response.text
        assert response.json()["kind"] == "ServiceUnavailable" and response.headers["retry-after"] == "5"


def rsa_keys() -> tuple[rsa.RSAPrivateKey, str]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public.decode()


async def test_rs256_tokens_from_an_identity_provider(settings: Settings, tmp_path: Path) -> None:
    private, public = rsa_keys()
    key_file = tmp_path / "idp.pem"
    key_file.write_text(public)
    api = ApiSettings(jwt_public_key=str(key_file), jwt_audience="peer-review", jwt_issuer="https://idp.example.gov.uk")
    async with client_for(create_app(settings, api)) as http:

        async def status_with(bearer: str) -> int:
            return (await http.get("/referrals/NO-SUCH", headers={"Authorization": f"Bearer {bearer}"})).status_code

        good = {"aud": "peer-review", "iss": "https://idp.example.gov.uk"}
        assert await status_with(token(CHAIR, key=private, algorithm="RS256", **good)) == 404  # signed in
        assert await status_with(token(CHAIR, key=private, algorithm="RS256", aud="other", iss=good["iss"])) == 401
        assert await status_with(token(CHAIR, key=private, algorithm="RS256", aud=good["aud"])) == 401  # no issuer
        assert await status_with(token(CHAIR, **good)) == 401  # HS256 is not accepted once RS256 is configured


def test_settings_refuse_to_start_without_a_way_to_sign_in() -> None:
    with pytest.raises(ValueError, match="authentication is not configured"):
        ApiSettings(jwt_secret=None, jwt_public_key=None, dev_login=False)
    with pytest.raises(ValueError, match="at least 32 bytes"):
        ApiSettings(jwt_secret="short")


def test_published_documents_are_current() -> None:
    for name, text in docs.documents().items():
        path = docs.DOCS / name
        assert path.exists(), f"docs/{name} is missing: run `python -m peer_review.web.openapi`"
        assert json.loads(path.read_text()) == json.loads(text), (
            f"docs/{name} is stale: run `python -m peer_review.web.openapi`"
        )

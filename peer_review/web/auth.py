"""Who is asking: a bearer JWT whose `sub` is a staff id, or (on a developer's machine) a signed cookie.

The acting person always comes from here and never from a request body, so nobody can act as somebody else
by editing JSON. Production puts an identity provider or reverse proxy in front (docs/api.md); the dev
sign-in cookie exists only with PEER_REVIEW_DEV_LOGIN=true.

Actions are proven to the worker with proofs the API signs (`signer_for`): only for the person whose token was
verified, so even a mistake in a route cannot make the API act for someone else.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from peer_review.domain.models import IDENTIFIER
from peer_review.temporal.proofs import ProofSigner
from peer_review.web.config import ApiSettings

SESSION_COOKIE = "peer_review_session"


class Unauthenticated(Exception):
    """No usable credentials: answered with 401 (API) or the sign-in page (pages)."""


@dataclass(frozen=True)
class Credentials:
    staff_id: str
    token: str

    @property
    def csrf_token(self) -> str:
        # Derived from the token itself: a cross-site page cannot read it, and no server-side state is needed.
        return hashlib.sha256(b"csrf:" + self.token.encode()).hexdigest()[:32]

    def csrf_ok(self, submitted: str | None) -> bool:
        return submitted is not None and hmac.compare_digest(submitted, self.csrf_token)


class TokenVerifier:
    def __init__(self, api: ApiSettings) -> None:
        self.api = api
        # Dev cookies are always HS256: with only an RS256 public key there is nothing here to sign with.
        self._cookie_secret = (
            api.jwt_secret.get_secret_value()
            if api.jwt_secret and not api.jwt_public_key
            else secrets.token_urlsafe(48)
        )
        self._bearer_key: Any
        if api.jwt_public_key:
            self._bearer_key, self._bearer_algorithm = api.jwt_public_key, "RS256"
        else:
            # Without a configured key (dev sign-in only) the dev session token doubles as a bearer token for curl.
            self._bearer_key, self._bearer_algorithm = self._cookie_secret, "HS256"

    def bearer(self, token: str) -> Credentials:
        return self._decode(token, self._bearer_key, self._bearer_algorithm, check_claims=True)

    def cookie(self, token: str) -> Credentials:
        if not self.api.dev_login:
            raise Unauthenticated("the dev sign-in is switched off")
        return self._decode(token, self._cookie_secret, "HS256", check_claims=False)

    def issue_dev_session(self, staff_id: str) -> str:
        now = datetime.now(UTC)
        claims = {"sub": staff_id, "iat": now, "exp": now + timedelta(hours=self.api.session_hours), "dev": True}
        return jwt.encode(claims, self._cookie_secret, algorithm="HS256")

    def _decode(self, token: str, key: Any, algorithm: str, *, check_claims: bool) -> Credentials:
        audience = self.api.jwt_audience if check_claims else None
        issuer = self.api.jwt_issuer if check_claims else None
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],  # one algorithm only: no "alg: none" and no RS256/HS256 confusion
                audience=audience,
                issuer=issuer,
                leeway=self.api.jwt_leeway_seconds,
                options={"require": ["exp", "sub"], "verify_aud": audience is not None},
            )
        except jwt.PyJWTError as error:
            raise Unauthenticated(f"invalid token: {error}") from None
        subject = claims.get("sub")
        if not isinstance(subject, str) or not IDENTIFIER.fullmatch(subject):
            raise Unauthenticated("invalid token: `sub` is not a staff id")
        return Credentials(staff_id=subject, token=token)


def signer_for(credentials: Credentials, api_signer: ProofSigner) -> ProofSigner:
    """Proofs for one request's actions, made with the API's key and bound to the person the verified token names
    (for an integration: the referrals it makes on behalf of the referrer it names)."""
    return api_signer.bound(credentials.staff_id)

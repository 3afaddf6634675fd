"""What the tests share, in one place: staff ids, referral and findings factories, the real worker, waiting, ports.

Import the common names from here (`from tests.helpers import referral, new_worker, CHAIR`). The heavier, more
particular helpers stay in their modules: `stack` (dev server and worker processes), `reviews` (many reviews at
once), `mail` (an aiosmtpd inbox), `web` (tokens, a live API server), `payloads` (hostile inputs), `deploy`.
"""

from __future__ import annotations

from peer_review.temporal.dev_server import free_port
from tests.helpers.factories import (
    EXAMPLES,
    FINDINGS_EXAMPLES,
    PROPERTY,
    REFERRAL_EXAMPLES,
    ROOT,
    TEST_KEY_FILE,
    example,
    example_contacts,
    findings,
    findings_data,
    make_findings,
    make_referral,
    referral,
    referral_data,
    referral_with_reasons,
)
from tests.helpers.postgres import postgres_alone, postgres_url
from tests.helpers.staff import AUDITOR, CHAIR, DEPUTY, FOCAL, REFERRER, REVIEWER, SAME_SITE_REVIEWER
from tests.helpers.temporal import (
    STATUS_WAIT,
    TEST_CONVERTER,
    chain_key,
    chain_keys,
    new_worker,
    skipping_reviews,
    triaged,
    venv_binary,
    wait_until,
)
from tests.helpers.waiting import assert_eventually, eventually

__all__ = [
    "AUDITOR",
    "CHAIR",
    "DEPUTY",
    "EXAMPLES",
    "FINDINGS_EXAMPLES",
    "FOCAL",
    "PROPERTY",
    "REFERRAL_EXAMPLES",
    "REFERRER",
    "REVIEWER",
    "ROOT",
    "SAME_SITE_REVIEWER",
    "STATUS_WAIT",
    "TEST_CONVERTER",
    "TEST_KEY_FILE",
    "assert_eventually",
    "chain_key",
    "chain_keys",
    "eventually",
    "example",
    "example_contacts",
    "findings",
    "findings_data",
    "free_port",
    "make_findings",
    "make_referral",
    "new_worker",
    "postgres_alone",
    "postgres_url",
    "referral",
    "referral_data",
    "referral_with_reasons",
    "skipping_reviews",
    "triaged",
    "venv_binary",
    "wait_until",
]

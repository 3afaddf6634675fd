"""Notification text and the internal-only rule (DESIGN §1, §6): the id and next step, no more."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from peer_review.domain.lifecycle import audit_actions
from peer_review.domain.models import (
    QUEUED,
    AuditEvent,
    NotificationOutcome,
    NotificationRequest,
    message_detail,
    settle,
)
from peer_review.domain.notices import NOTICES, Step, compose, is_internal, wording
from tests.helpers import PROPERTY, make_referral

DOMAINS = ["example.gov.uk"]
SENDER = "peer-review@example.gov.uk"
RECIPIENT = "ann.chair@example.gov.uk"

identifiers = st.from_regex(r"[A-Za-z0-9._-]{1,64}", fullmatch=True)
labels = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,18}[a-z0-9])?", fullmatch=True)


def body_of(referral_id: str, step: Step, key: str = "k-1", recipient: str = RECIPIENT) -> str:
    message = compose(wording(referral_id, step), idempotency_key=key, sender=SENDER, recipient=recipient)
    content = message.get_content()
    assert isinstance(content, str)
    return content


def test_every_step_has_a_notice() -> None:
    assert set(NOTICES) == set(Step)


@pytest.mark.parametrize("step", list(Step))
def test_message_names_the_referral_and_what_to_do(step: Step) -> None:
    message = compose(
        wording("PR-2026-0001", step),
        idempotency_key="PR-2026-0001.3.decision_needed.S100",
        sender=SENDER,
        recipient=RECIPIENT,
    )
    body = message.get_content()
    assert "Referral: PR-2026-0001" in body
    assert NOTICES[step].headline in body
    assert "What to do next: " in body
    assert "{ref}" not in body
    assert "internal only" in body and "never about blame" in body
    assert message["Subject"] == f"[Peer Review PR-2026-0001] {NOTICES[step].headline}"
    assert message["From"] == SENDER and message["To"] == RECIPIENT


@pytest.mark.parametrize("step", list(Step))
def test_message_never_carries_case_details(step: Step) -> None:
    referral = make_referral("suicide")
    message = compose(
        wording(referral.referral_id, step),
        idempotency_key=f"{referral.referral_id}.1.{step.value}.S100",
        sender=SENDER,
        recipient=RECIPIENT,
    )
    text = message.as_string()
    secrets = [
        referral.summary,
        referral.case_reference,
        referral.customer.reference,
        referral.business_arm,
        referral.site,
        *referral.issues_raised,
        "suicide",
    ]
    for secret in secrets:
        assert secret.casefold() not in text.casefold(), secret


@PROPERTY
@given(
    referral_id=identifiers,
    step=st.sampled_from(list(Step)),
    key=identifiers,
    local=st.from_regex(r"[a-z][a-z.]{0,20}", fullmatch=True),
)
def test_body_depends_only_on_the_step_and_referral_id(referral_id: str, step: Step, key: str, local: str) -> None:
    """Whatever else is passed (key, recipient), the body is the step's fixed text plus the id."""
    body = body_of(referral_id, step, key=key, recipient=f"{local}@example.gov.uk")
    assert f"Referral: {referral_id}\n" in body
    assert body == body_of(referral_id, step)
    template = body_of("REFID", step)
    assert body == template.replace("REFID", referral_id)


@PROPERTY
@given(referral_id=identifiers, step=st.sampled_from(list(Step)), key=identifiers)
def test_message_id_carries_the_idempotency_key(referral_id: str, step: Step, key: str) -> None:
    message = compose(wording(referral_id, step), idempotency_key=key, sender=SENDER, recipient=RECIPIENT)
    assert message["Message-ID"] == f"<{key}@peer-review.internal>"


def test_message_id_for_a_workflow_style_key() -> None:
    key = "PR-2026-0001.12.reviewer_assigned.S400"
    message = compose(
        wording("PR-2026-0001", Step.REVIEWER_ASSIGNED),
        idempotency_key=key,
        sender=SENDER,
        recipient=RECIPIENT,
    )
    assert key in message["Message-ID"]


# --- is_internal ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "ann.chair@example.gov.uk",
        "Ann.Chair@EXAMPLE.GOV.UK",
        "someone@sub.example.gov.uk",
        "someone@deep.sub.example.gov.uk",
        "first.last+tag@example.gov.uk",
    ],
)
def test_internal_addresses_are_accepted(address: str) -> None:
    assert is_internal(address, DOMAINS)


@pytest.mark.parametrize(
    "address",
    [
        "evil@example.gov.uk.evil.com",
        "evil@notexample.gov.uk",
        "evil@xexample.gov.uk",
        "evil@example-gov.uk",
        "evil@example.gov",
        "evil@gov.uk",
        "evil@evil.com",
        "evil@example.gov.uk.",
        "evil@example.gov.uk ",
        "evil@example.gov.ukk",
        "example.gov.uk@evil.com",
        "ann@example.gov.uk@evil.com",
        "evil@",
        "",
    ],
)
def test_lookalike_and_external_addresses_are_refused(address: str) -> None:
    assert not is_internal(address, DOMAINS)


def test_no_internal_domains_means_nothing_is_internal() -> None:
    assert not is_internal("ann.chair@example.gov.uk", [])


def test_any_of_several_internal_domains_is_accepted() -> None:
    domains = ["example.gov.uk", "partner.gov.uk"]
    assert is_internal("a@partner.gov.uk", domains)
    assert is_internal("a@x.example.gov.uk", domains)
    assert not is_internal("a@partner.gov.uk.evil.com", domains)


def test_an_address_listing_an_external_recipient_is_refused() -> None:
    """A directory email like this passes the Staff.email pattern, yet as a To header it names two
    recipients, bob@evil.com and x.example.gov.uk, so the mail would leave the organisation."""
    assert not is_internal("bob@evil.com,x.example.gov.uk", DOMAINS)


@PROPERTY
@given(local=st.from_regex(r"[a-z0-9.]{1,20}", fullmatch=True), sub=st.lists(labels, max_size=3))
def test_the_domain_and_its_subdomains_are_internal(local: str, sub: list[str]) -> None:
    domain = ".".join([*sub, "example.gov.uk"])
    assert is_internal(f"{local}@{domain}", DOMAINS)


@PROPERTY
@given(
    local=st.from_regex(r"[a-z0-9.]{1,20}", fullmatch=True),
    label=labels,
    tld=st.sampled_from(["com", "net", "evil.com", "co.uk"]),
)
def test_lookalike_domains_are_never_internal(local: str, label: str, tld: str) -> None:
    assert not is_internal(f"{local}@{label}example.gov.uk", DOMAINS)
    assert not is_internal(f"{local}@example.gov.uk.{label}.{tld}", DOMAINS)
    assert not is_internal(f"{local}@{label}.{tld}", DOMAINS)


@pytest.mark.parametrize("step", list(Step))
def test_an_email_says_exactly_what_the_outbox_keeps(step: Step) -> None:
    text = wording("PR-2026-0001", step)
    message = compose(text, idempotency_key="k-1", sender=SENDER, recipient=RECIPIENT)
    assert (message["Subject"], message.get_content()) == (text.subject, text.body)


MESSAGE_OUTCOMES = [
    # delivered, failed, queued, audit action
    (True, False, False, "notification_sent"),
    (False, False, True, "notification_queued"),
    (False, False, False, "notification_refused"),
    (False, True, False, "notification_failed"),
]


@pytest.mark.parametrize(("delivered", "failed", "queued", "action"), MESSAGE_OUTCOMES)
def test_a_messages_event_is_settled_by_its_outcome(delivered: bool, failed: bool, queued: bool, action: str) -> None:
    at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    move = AuditEvent(seq=1, at=at, actor="S100", action="approve", from_status=None, to_status=None)
    message = AuditEvent(
        seq=2,
        at=at,
        actor="system",
        action=QUEUED,
        from_status=None,
        to_status=None,
        detail=message_detail(Step.REFERRAL_APPROVED.value, "S300"),
    )
    request = NotificationRequest(
        idempotency_key="k", referral_id="PR-2026-0001", recipient="S300", step="referral_approved", seq=2
    )
    outcome = NotificationOutcome(
        idempotency_key="k", recipient="S300", delivered=delivered, failed=failed, queued=queued, detail="what"
    )
    assert message.action == "notification_queued" and message.detail == "referral_approved to S300"
    assert settle([move, message], [request], [outcome]) == [
        move,
        message.model_copy(update={"action": action, "detail": "referral_approved to S300: what"}),
    ]
    assert action in audit_actions()

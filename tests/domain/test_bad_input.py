"""Malformed and hostile payloads in-process, many examples: the models refuse each and name the field.

The message checked is the one the command line prints (peer_review.cli.common.describe_validation), so a refusal
here is a refusal a caseworker can act on.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, event, given, settings
from pydantic import BaseModel, ValidationError

from peer_review.cli.common import describe_validation
from peer_review.domain.models import Findings, Referral
from tests.helpers.payloads import FINDINGS, REFERRAL, Broken, Schema, findings, referrals

MANY = settings(
    max_examples=int(os.environ.get("PEER_REVIEW_BAD_INPUT_EXAMPLES", "1000")),
    derandomize=True,  # the same examples on every run
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def refusal(model: type[BaseModel], case: Broken) -> str:
    event(case.how.split(" ")[0])  # what kinds of breakage ran: pytest --hypothesis-show-statistics
    with pytest.raises(ValidationError) as caught:
        model.model_validate(case.data)
    return describe_validation(caught.value)


@pytest.mark.parametrize(
    ("schema", "model"), [(REFERRAL, Referral), (FINDINGS, Findings)], ids=["referral", "findings"]
)
def test_the_unbroken_documents_are_valid(schema: Schema, model: type[BaseModel]) -> None:
    # Otherwise a refusal below could be for some other reason than the one thing broken.
    model.model_validate(schema.fresh())


@MANY
@given(referrals())
def test_every_broken_referral_is_refused_naming_the_field(case: Broken) -> None:
    message = refusal(Referral, case)
    assert case.field in message, f"{case.how}: {message!r} does not name {case.field!r}"


@MANY
@given(findings())
def test_every_broken_findings_is_refused_naming_the_field(case: Broken) -> None:
    message = refusal(Findings, case)
    assert case.field in message, f"{case.how}: {message!r} does not name {case.field!r}"

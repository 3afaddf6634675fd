"""The action table is the one list of human actions: the workflow's updates, the CLI and the routes follow it."""

from __future__ import annotations

import json

import pytest
from temporalio import workflow
from typer.main import get_command

from peer_review.domain.actions import ACTIONS, Action, Input
from peer_review.domain.lifecycle import RULES, ActionName
from peer_review.web.openapi import documents
from starter import app
from workflows.peer_review import PeerReviewWorkflow


def _update_names() -> set[str]:
    definition = workflow._Definition.must_from_class(PeerReviewWorkflow)
    return {name for name in definition.updates if name is not None}


def test_every_action_is_a_workflow_update_and_every_update_an_action() -> None:
    assert {action.name.value for action in ACTIONS} == _update_names()


def test_the_table_covers_every_action_name_and_rule_once() -> None:
    names = [action.name for action in ACTIONS]
    assert sorted(names) == sorted(ActionName) == sorted(RULES)


def test_every_action_is_a_cli_command_with_the_actions_options() -> None:
    commands = get_command(app).commands  # type: ignore[attr-defined]
    for action in ACTIONS:
        options = {opt for param in commands[action.command].params for opt in param.opts}
        assert "--as" in options and "--json" in options
        if action.note is not None:
            assert f"--{action.note.field}" in options
        assert ("--reviewer" in options) is (action.needs is Input.REVIEWER)


@pytest.mark.parametrize("action", ACTIONS, ids=[action.command for action in ACTIONS])
def test_every_action_is_an_http_route(action: Action) -> None:
    paths = json.loads(documents()["openapi.json"])["paths"]
    assert "post" in paths[f"/referrals/{{referral_id}}/{action.path}"]

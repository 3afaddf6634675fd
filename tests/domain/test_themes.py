"""A recommendation's optional theme and stage: from the vocabulary and the review's stages, or refused naming
the field; findings without them stay valid."""

from __future__ import annotations

from pathlib import Path

import pytest

from peer_review.domain.findings import findings_problems
from peer_review.domain.models import DEFAULT_THEMES
from peer_review.settings import DEFAULT_JOURNEY_STAGES, Settings, load_themes
from tests.helpers import EXAMPLES, findings


def recommendations(**first: object) -> list[dict[str, object]]:
    items = findings().model_dump(mode="json")["recommendations"]
    items[0] = {key: value for key, value in {**items[0], **first}.items() if value is not None}
    return list(items)


def problems(**first: object) -> list[str]:
    return findings_problems(
        findings(recommendations=recommendations(**first)),
        journey_stages=DEFAULT_JOURNEY_STAGES,
        issues_raised=[],
        themes=DEFAULT_THEMES,
    )


def test_theme_and_stage_are_optional_and_checked() -> None:
    assert problems() == []
    assert problems(theme=None, stage=None) == []
    assert problems(theme="Timeliness") == [
        "recommendations.1.theme: 'Timeliness' is not one of the themes: " + ", ".join(DEFAULT_THEMES)
    ]
    assert problems(stage="Triage")[0].startswith("recommendations.1.stage: 'Triage' is not one of the stages")


def test_the_vocabulary_comes_from_yaml_and_the_default_set_is_the_example_file(tmp_path: Path) -> None:
    assert load_themes(EXAMPLES / "themes.yaml") == list(DEFAULT_THEMES)
    custom = tmp_path / "themes.yaml"
    custom.write_text("themes: [staffing, letters]\n")
    assert Settings(themes_file=custom).policy.themes == ["staffing", "letters"]
    custom.write_text("themes: [not an identifier]\n")
    with pytest.raises(ValueError, match="`themes` must be a list of identifiers"):
        load_themes(custom)

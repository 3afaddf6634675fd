"""The findings form: plain HTML fields in, a validated Findings out (or the problems, per form field).

No JavaScript, so repeating sections (chronology, recommendations) come as a fixed number of rows and
blank rows are ignored. `national_improvements_identified` is not asked: the rules make it true exactly
when a national recommendation is given, so it is derived from the recommendations. The sections a review's
reasons ask for are checked here too (peer_review.domain.findings), so the page names the field at once.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from peer_review.domain.findings import findings_problems
from peer_review.domain.models import Findings, Reason, RecommendationLevel

CHRONOLOGY_ROWS = 5
RECOMMENDATION_ROWS = 3


@dataclass
class FormProblems:
    """Problems keyed by the form field's name, so the error summary can link to the field."""

    items: list[tuple[str, str]] = field(default_factory=list)

    def add(self, name: str, message: str) -> None:
        self.items.append((name, message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def for_field(self, name: str) -> str | None:
        return next((message for key, message in self.items if key == name), None)


def _text(form: Mapping[str, str], name: str) -> str:
    return (form.get(name) or "").strip()


def _yes_no(form: Mapping[str, str], name: str) -> bool | None:
    return {"yes": True, "no": False}.get(_text(form, name))


# The free-text sections, in the order of the form (each optional unless the reasons or the answers need it).
SECTIONS = ("underlying_error", "communications_assessment", "impact_assessment")


def parse_findings(
    form: Mapping[str, str], stages: list[str], issues: list[str], reasons: Collection[Reason] = ()
) -> tuple[Findings | None, FormProblems]:
    chronology_rows = [
        i for i in range(CHRONOLOGY_ROWS) if _text(form, f"chronology-{i}-date") or _text(form, f"chronology-{i}-event")
    ]
    recommendation_rows = [
        i
        for i in range(RECOMMENDATION_ROWS)
        if any(_text(form, f"recommendation-{i}-{part}") for part in ("text", "owner"))
    ]
    recommendations = [
        {
            "level": _text(form, f"recommendation-{i}-level") or None,
            "text": _text(form, f"recommendation-{i}-text"),
            "owner": _text(form, f"recommendation-{i}-owner"),
        }
        for i in recommendation_rows
    ]
    data: dict[str, Any] = {
        "summary": _text(form, "summary"),
        "chronology": [
            {"date": _text(form, f"chronology-{i}-date") or None, "event": _text(form, f"chronology-{i}-event")}
            for i in chronology_rows
        ],
        "customer_journey": [
            {
                "stage": stage,
                "followed": _text(form, f"stage-{i}-followed") or None,
                "evidence": _text(form, f"stage-{i}-evidence"),
            }
            for i, stage in enumerate(stages)
        ],
        "issues_addressed": [
            {
                "issue": issue,
                "addressed": _yes_no(form, f"issue-{i}-addressed"),
                "notes": _text(form, f"issue-{i}-notes") or None,
            }
            for i, issue in enumerate(issues)
        ],
        "underlying_error_identified": _yes_no(form, "underlying_error_identified"),
        **{section: _text(form, section) or None for section in SECTIONS},
        "national_improvements_identified": any(r["level"] == RecommendationLevel.NATIONAL for r in recommendations),
        "recommendations": recommendations,
        "lessons_learned": [line.strip() for line in _text(form, "lessons_learned").splitlines() if line.strip()],
        "contentious": _text(form, "contentious") == "yes",
    }
    problems = FormProblems()
    try:
        findings = Findings.model_validate(data)
    except ValidationError as error:
        for item in error.errors():
            message = _plain(item["msg"])
            named, _, rest = message.partition(": ")
            if not item["loc"] and named in LABELS:
                # A rule across fields (an identified error must be explained) names its own field.
                problems.add(named, f"{LABELS[named]}: {rest}")
                continue
            name, label = _form_field(item["loc"], stages, issues, chronology_rows, recommendation_rows)
            problems.add(name, f"{label}: {message}")
        return None, problems
    for problem in findings_problems(findings, journey_stages=stages, issues_raised=issues, reasons=reasons):
        field, _, message = problem.partition(": ")
        if field in SECTIONS:
            problems.add(field, f"{LABELS[field]}: {message}")
    return (None, problems) if problems else (findings, problems)


def _plain(message: str) -> str:
    message = message.removeprefix("Value error, ")
    if message in ("Field required", "String should have at least 1 character") or message.startswith(
        "Input should be"
    ):
        return "this needs an answer"
    return message


def _form_field(
    loc: tuple[int | str, ...], stages: list[str], issues: list[str], chronology: list[int], recommendations: list[int]
) -> tuple[str, str]:
    """The form field and a human label for a validation error's location in Findings."""
    top = str(loc[0]) if loc else "summary"
    index = loc[1] if len(loc) > 2 and isinstance(loc[1], int) else None
    part = str(loc[2]) if len(loc) > 2 else ""
    if top == "customer_journey" and index is not None:
        return f"stage-{index}-{part}", f"Customer Journey stage “{stages[index]}” ({part})"
    if top == "issues_addressed" and index is not None:
        return f"issue-{index}-{part}", f"Issue “{issues[index]}” ({part})"
    if top == "chronology" and index is not None:
        return f"chronology-{chronology[index]}-{part}", f"Chronology row {chronology[index] + 1} ({part})"
    if top == "recommendations" and index is not None:
        row = recommendations[index]
        return f"recommendation-{row}-{part}", f"Recommendation {row + 1} ({part})"
    return top, LABELS.get(top, top.replace("_", " ").capitalize())


LABELS = {
    "summary": "Summary of findings",
    "underlying_error_identified": "Underlying error identified",
    "underlying_error": "The underlying error",
    "communications_assessment": "Assessment of the communications",
    "impact_assessment": "Impact and risk of escalation",
    "lessons_learned": "Lessons learned",
}

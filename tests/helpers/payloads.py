"""Hypothesis strategies for malformed and hostile Referral and Findings payloads.

Each example breaks exactly one thing in a valid document (one of the shipped examples), so the refusal can be
checked to name the field that was broken: a wrong type, a huge or blank string, a control character, an
unknown or missing field, deep nesting, a value outside an enumeration, too many or too few list items.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from peer_review.domain.models import MAX_ITEMS, MAX_LONG_TEXT, MAX_SHORT_TEXT, Reason, ReferralLevel
from tests.helpers import example

Path = tuple[str | int, ...]
TOP_LEVEL = "(top level)"  # how the CLI names the document itself (peer_review.cli.common.describe_validation)

# C0 and C1 controls and DEL; tab, newline and carriage return are ordinary text.
CONTROLS = [chr(c) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)]]
# What pydantic's lax mode accepts as a boolean: not a wrong type, so never offered as one.
BOOL_WORDS = {"0", "off", "f", "false", "n", "no", "1", "on", "t", "true", "y", "yes"}
HUGE = 3_000_000  # characters: beyond Temporal's 2 MB payload limit, so the models must stop it first


@dataclass(frozen=True)
class Kind:
    """What a value must be. `choices` for enumerations; `limit` for text; `item` for lists."""

    name: str
    limit: int = 0
    choices: tuple[str, ...] = ()
    item: Kind | None = None
    min_items: int = 0
    optional: bool = False


IDENTIFIER = Kind("identifier", limit=64)
SHORT = Kind("text", limit=MAX_SHORT_TEXT)
LONG = Kind("text", limit=MAX_LONG_TEXT)
BOOL = Kind("bool")
DATE = Kind("date")


def choice(values: list[str]) -> Kind:
    return Kind("choice", choices=tuple(values))


def listing(item: Kind, *, limit: int = MAX_ITEMS, min_items: int = 0) -> Kind:
    return Kind("list", limit=limit, item=item, min_items=min_items)


@dataclass(frozen=True)
class Schema:
    """A valid document and where its values are: leaves, lists, and objects with their required keys."""

    base: dict[str, Any]
    leaves: dict[Path, Kind]
    objects: dict[Path, tuple[str, ...]] = field(default_factory=dict)

    def fresh(self) -> dict[str, Any]:
        document = copy.deepcopy(self.base)
        if "referral_id" in document:
            document["referral_id"] = f"BAD-{uuid.uuid4().hex[:12]}"
        return document


def _referral_schema() -> Schema:
    return Schema(
        base=example("referral-complex-issue.json"),
        leaves={
            ("referral_id",): IDENTIFIER,
            ("case_reference",): IDENTIFIER,
            ("referred_by",): IDENTIFIER,
            ("referral_level",): choice([level.value for level in ReferralLevel]),
            ("business_arm",): SHORT,
            ("site",): SHORT,
            ("osn",): IDENTIFIER,
            ("reasons",): listing(choice([r.value for r in Reason]), limit=len(Reason), min_items=1),
            # Any value but null is wrong here: the example's reasons do not include "other".
            ("other_reason",): Kind("text", limit=MAX_SHORT_TEXT, optional=True),
            ("complaint_made",): BOOL,
            ("summary",): LONG,
            ("issues_raised",): listing(SHORT),
            ("issues_raised", 1): SHORT,
            ("customer", "reference"): IDENTIFIER,
            ("customer", "additional_needs"): BOOL,
        },
        objects={
            (): (
                "referral_id",
                "case_reference",
                "referred_by",
                "referral_level",
                "business_arm",
                "site",
                "osn",
                "reasons",
                "complaint_made",
                "summary",
                "customer",
            ),
            ("customer",): ("reference",),
        },
    )


def _findings_schema() -> Schema:
    return Schema(
        base=example("findings.json"),
        leaves={
            ("summary",): LONG,
            ("chronology",): listing(Kind("object")),
            ("chronology", 0, "date"): DATE,
            ("chronology", 1, "event"): LONG,
            ("customer_journey",): listing(Kind("object"), min_items=1),
            ("customer_journey", 2, "stage"): SHORT,
            ("customer_journey", 0, "followed"): choice(["yes", "partly", "no"]),
            ("customer_journey", 4, "evidence"): LONG,
            ("issues_addressed", 0, "issue"): SHORT,
            ("issues_addressed", 1, "addressed"): BOOL,
            ("issues_addressed", 0, "notes"): Kind("text", limit=MAX_LONG_TEXT, optional=True),
            ("underlying_error_identified",): BOOL,
            ("national_improvements_identified",): BOOL,
            ("recommendations", 1, "level"): choice(["local", "national"]),
            ("recommendations", 0, "text"): LONG,
            ("recommendations", 1, "owner"): SHORT,
            ("lessons_learned",): listing(LONG),
            ("lessons_learned", 0): LONG,
            ("contentious",): BOOL,
        },
        objects={
            (): ("summary", "customer_journey", "underlying_error_identified", "national_improvements_identified"),
            ("chronology", 1): ("date", "event"),
            ("customer_journey", 3): ("stage", "followed", "evidence"),
            ("issues_addressed", 1): ("issue", "addressed"),
            ("recommendations", 0): ("level", "text", "owner"),
        },
    )


REFERRAL = _referral_schema()
FINDINGS = _findings_schema()


@dataclass(frozen=True)
class Broken:
    """A payload with one thing wrong, the field a refusal must name, and what was done (for failure output)."""

    data: Any
    field: str
    how: str

    @property
    def referral_id(self) -> str | None:
        """The id a referral was given before it was broken (the one to look for at the server)."""
        return self.data.get("referral_id") if isinstance(self.data, dict) else None


def named(path: Path) -> str:
    """The field a message should name: the innermost key (a list item is named by its list)."""
    keys = [part for part in path if isinstance(part, str)]
    return keys[-1] if keys else TOP_LEVEL


def _set(document: dict[str, Any], path: Path, value: Any) -> None:
    target: Any = document
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value


def _get(document: dict[str, Any], path: Path) -> Any:
    target: Any = document
    for part in path:
        target = target[part]
    return target


# --- Wrong values, by kind --------------------------------------------------------------------------------

_SMALL = st.text(max_size=5)
NOT_TEXT = st.one_of(
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(_SMALL, st.integers(), max_size=2),
)


def _nested(depth: int, leaf: Any) -> Any:
    """`leaf` inside `depth` lists: deep nesting where a flat value belongs (JSON keeps it under ~1000)."""
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


DEEP = st.builds(_nested, st.integers(2, 200), st.sampled_from(["x", 1, None, {}]))


def _with_control(text: str, data: st.DataObject) -> str:
    at = data.draw(st.integers(0, len(text)), label="at")
    return text[:at] + data.draw(st.sampled_from(CONTROLS), label="control") + text[at:]


def _too_long(limit: int) -> st.SearchStrategy[str]:
    # Not whitespace: stripping must not bring it back under the limit.
    lengths = st.one_of(st.integers(limit + 1, limit + 50), st.just(HUGE))
    return st.builds(lambda n, c: c * n, lengths, st.sampled_from(["x", "é", "[", "界"]))


BLANK = st.sampled_from(["", " ", "   ", "\t", "\n \r"])
LONE_SURROGATE = st.sampled_from(["\ud800", "a\udfffb"])
IDENTIFIER_JUNK = st.sampled_from([" ", "/", "é", "[", "'", '"', ";", "\u202e", "%", "*", ":", "\\"])


def bad_text(kind: Kind, valid: Any, data: st.DataObject) -> tuple[Any, str]:
    how = data.draw(st.sampled_from(["type", "long", "blank", "control", "surrogate", "deep", "junk"]), label="how")
    base = valid if isinstance(valid, str) and valid else "x"
    if how == "type":
        return data.draw(NOT_TEXT if kind.optional else st.one_of(NOT_TEXT, st.none()), label="value"), how
    if how == "long":
        return data.draw(_too_long(kind.limit), label="value"), how
    if how == "blank":
        return data.draw(BLANK, label="value"), how
    if how == "control":
        return _with_control(base, data), how
    if how == "surrogate":
        return base + data.draw(LONE_SURROGATE, label="value"), how
    if how == "deep":
        return data.draw(DEEP, label="value"), how
    if kind.name == "identifier":  # a character the identifier pattern does not allow, inside the value
        return base[:1] + data.draw(IDENTIFIER_JUNK, label="junk") + base[1:], how
    return _with_control(base, data), "control"


def bad_bool(data: st.DataObject) -> Any:
    return data.draw(
        st.one_of(
            st.text(max_size=8).filter(lambda s: s.strip().lower() not in BOOL_WORDS),
            st.integers().filter(lambda i: i not in (0, 1)),
            st.floats(allow_nan=True).filter(lambda f: f not in (0.0, 1.0)),
            st.lists(st.booleans(), max_size=2),
            st.dictionaries(_SMALL, st.booleans(), max_size=2),
            st.none(),
            DEEP,
        ),
        label="value",
    )


def bad_choice(kind: Kind, data: st.DataObject) -> Any:
    wrong_words = st.text(max_size=20).filter(lambda s: s.strip() not in kind.choices)
    shouted = st.sampled_from([c.upper() for c in kind.choices])
    return data.draw(st.one_of(wrong_words, shouted, NOT_TEXT, st.none(), DEEP), label="value")


def bad_date(data: st.DataObject) -> Any:
    words = st.sampled_from(["2026-13-45", "2026-02-30", "yesterday", "", "03/02/2026", "2026-3-2", "20260302"])
    return data.draw(st.one_of(words, st.booleans(), st.lists(st.integers(), max_size=2), st.none(), DEEP))


def bad_list(kind: Kind, valid: list[Any], data: st.DataObject) -> Any:
    too_many = [valid[0] if valid else "x"] * (kind.limit + 1)
    options: list[st.SearchStrategy[Any]] = [
        st.one_of(st.text(max_size=10), st.integers(), st.dictionaries(_SMALL, _SMALL, max_size=2)),
        st.just(too_many),
    ]
    if kind.min_items:
        options.append(st.just([]))
    if kind.item is not None and kind.item.choices:
        allowed = kind.item.choices
        outsider = st.text(max_size=10).filter(lambda s: s.strip() not in allowed)
        options.append(st.builds(lambda v: [*valid[:1], v], outsider))
    return data.draw(st.one_of(*options), label="value")


def bad_value(kind: Kind, valid: Any, data: st.DataObject) -> tuple[Any, str]:
    if kind.name in ("identifier", "text"):
        return bad_text(kind, valid, data)
    if kind.name == "bool":
        return bad_bool(data), "type"
    if kind.name == "choice":
        return bad_choice(kind, data), "choice"
    if kind.name == "date":
        return bad_date(data), "date"
    return bad_list(kind, valid, data), "list"


# --- Whole documents ----------------------------------------------------------------------------------------

# Printable, without "[" (rich markup) or ":" (rich emoji codes): keys like that are covered one by one in
# test_cli.py, because the command line mangles them today.
KEY_ALPHABET = st.characters(codec="utf-8", categories=["L", "N", "P", "S", "Zs"], exclude_characters="[]:")
UNKNOWN_KEYS = st.one_of(
    st.sampled_from(["colour", "__proto__", "constructor", "$where", "referralId", "summary2", "admin", "id"]),
    st.text(KEY_ALPHABET, min_size=1, max_size=20).map(str.strip).filter(bool),
)


@st.composite
def broken(draw: st.DrawFn, schema: Schema) -> Broken:
    """One valid document with exactly one thing broken."""
    document = schema.fresh()
    data = draw(st.data())
    how = draw(st.sampled_from(["value"] * 6 + ["missing", "unknown", "not_an_object"]), label="mutation")
    if how == "missing":
        path, keys = draw(st.sampled_from(sorted(schema.objects.items(), key=str)), label="object")
        key = draw(st.sampled_from(keys), label="key")
        del _get(document, path)[key]
        return Broken(document, key, f"missing {(*path, key)}")
    if how == "unknown":
        path = draw(st.sampled_from(sorted(schema.objects, key=str)), label="object")
        target = _get(document, path)
        key = draw(UNKNOWN_KEYS.filter(lambda k: k not in target), label="key")
        target[key] = draw(st.one_of(st.none(), st.integers(), st.text(max_size=5)), label="value")
        return Broken(document, key, f"unknown {(*path, key)}")
    if how == "not_an_object":
        return Broken(
            draw(st.one_of(st.lists(st.integers(), max_size=2), st.text(max_size=5), st.none())), TOP_LEVEL, how
        )
    path, kind = draw(st.sampled_from(sorted(schema.leaves.items(), key=str)), label="leaf")
    value, detail = bad_value(kind, _get(document, path), data)
    _set(document, path, value)
    return Broken(document, named(path), f"{detail} at {path}")


def referrals() -> st.SearchStrategy[Broken]:
    return broken(REFERRAL)


def findings() -> st.SearchStrategy[Broken]:
    return broken(FINDINGS)

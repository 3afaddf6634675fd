"""Imports flow downwards: scripts → workflows/, activities/ → peer_review/; the domain and workflows do no I/O.

The checker reads every module's imports from its syntax tree (anywhere in the file, including imports inside
functions and `TYPE_CHECKING` blocks), so a violation fails here without running anything. The synthetic modules
at the end prove that it does catch each kind of violation.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import ROOT

# Libraries that reach outside the process (network, database, processes, web, terminal), and the parts of the
# Temporal SDK that talk to a server. A workflow or a domain rule that needs one of these belongs in an activity
# or in peer_review/records, temporal, web or cli instead.
IO_LIBRARIES = (
    "aiosmtplib",
    "aiosqlite",
    "asyncpg",
    "fastapi",
    "http",
    "httpx",
    "jinja2",
    "jwt",
    "requests",
    "rich",
    "smtplib",
    "socket",
    "sqlalchemy",
    "sqlite3",
    "starlette",
    "structlog",
    "subprocess",
    "temporalio.client",
    "temporalio.service",
    "temporalio.testing",
    "temporalio.worker",
    "typer",
    "urllib",
    "uvicorn",
)
ENTRY_POINTS = ("workflows", "activities", "worker", "starter", "dev")
# The domain is the core: nothing of the project's own outside it, so its rules can be read and tested alone.
OUTER_ROOMS = (
    "peer_review.cli",
    "peer_review.records",
    "peer_review.settings",
    "peer_review.temporal",
    "peer_review.web",
)


@dataclass(frozen=True)
class Rule:
    """Modules under `scope` may not import anything under one of `forbidden` (dotted prefixes)."""

    scope: str
    forbidden: tuple[str, ...]
    why: str


RULES = [
    Rule("peer_review", ENTRY_POINTS, "peer_review/ sits below the workflows, activities and scripts"),
    Rule("peer_review.domain", IO_LIBRARIES + OUTER_ROOMS, "the domain is pure: no I/O, no outer room"),
    Rule("workflows", IO_LIBRARIES, "a workflow does no I/O: activities do it"),
]


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(source: str, module: str, *, is_package: bool = False) -> Iterator[tuple[int, list[str]]]:
    """Each import statement of `source`: its line and the modules it imports, absolute (relative imports resolved
    against `module`). `from workflows import peer_review` imports both workflows and workflows.peer_review."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield node.lineno, [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            yield node.lineno, [target, *(f"{target}.{alias.name}" for alias in node.names)]


def under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def violations(modules: dict[str, tuple[str, bool]], rules: list[Rule]) -> list[str]:
    """`modules` maps a dotted name to (source, is_package); each import statement that breaks a rule gives a line."""
    found: list[str] = []
    for name, (source, is_package) in sorted(modules.items()):
        for line, targets in imported(source, name, is_package=is_package):
            for rule in rules:
                bad = [t for t in targets if under(name, rule.scope) and any(under(t, f) for f in rule.forbidden)]
                if bad:
                    found.append(f"{name}:{line} imports {bad[0]}: {rule.why}")
    return found


def project_modules() -> dict[str, tuple[str, bool]]:
    modules: dict[str, tuple[str, bool]] = {}
    for folder in ("peer_review", "workflows", "activities"):
        for path in (ROOT / folder).rglob("*.py"):
            modules[module_name(path, ROOT)] = (path.read_text(encoding="utf-8"), path.name == "__init__.py")
    return modules


def test_the_project_keeps_every_import_rule() -> None:
    modules = project_modules()
    assert {"peer_review.domain.lifecycle", "workflows.peer_review", "peer_review.records.store"} <= set(modules)
    assert violations(modules, RULES) == []


# --- the checker catches what it should ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("peer_review.web.app", "import workflows.peer_review\n"),
        ("peer_review.cli.common", "from activities.records import RecordActivities\n"),
        ("peer_review.temporal.client", "from workflows import peer_review\n"),
        ("peer_review.temporal.client", "def later() -> None:\n    import worker\n"),
        ("peer_review.records.store", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import activities\n"),
        ("peer_review.domain.triage", "import sqlalchemy.ext.asyncio\n"),
        ("peer_review.domain.lifecycle", "from httpx import AsyncClient\n"),
        ("peer_review.domain.models", "from temporalio.client import Client\n"),
        ("peer_review.domain.deadlines", "from peer_review.records.store import RecordsStore\n"),
        ("peer_review.domain.notices", "from ..settings import Settings\n"),
        ("workflows.peer_review", "import aiosmtplib\n"),
        ("workflows.side_effects", "from fastapi import FastAPI\n"),
    ],
)
def test_the_checker_catches_a_forbidden_import(module: str, source: str) -> None:
    assert len(violations({module: (source, False)}, RULES)) == 1


@pytest.mark.parametrize(
    ("module", "source"),
    [
        # What each room may import.
        ("peer_review.web.app", "from peer_review.temporal.client import PeerReviewClient\nimport fastapi\n"),
        ("peer_review.domain.triage", "from peer_review.domain.models import Referral\nfrom . import lifecycle\n"),
        ("peer_review.domain.audit_chain", "import hmac\nimport hashlib\n"),
        ("workflows.peer_review", "from temporalio import workflow\nfrom temporalio.common import RetryPolicy\n"),
        # Names that only begin like a forbidden one, and modules outside every rule.
        ("peer_review.domain.models", "import httpxlike\nimport workflowsish\n"),
        ("activities.records", "import sqlalchemy\n"),
        ("worker", "import workflows.peer_review\n"),
    ],
)
def test_the_checker_lets_an_allowed_import_pass(module: str, source: str) -> None:
    assert violations({module: (source, False)}, RULES) == []


def test_relative_imports_are_resolved_against_their_package() -> None:
    assert list(imported("from ..records import store\n", "peer_review.domain.triage")) == [
        (1, ["peer_review.records", "peer_review.records.store"])
    ]
    assert list(imported("from . import lifecycle\n", "peer_review.domain", is_package=True)) == [
        (1, ["peer_review.domain", "peer_review.domain.lifecycle"])
    ]

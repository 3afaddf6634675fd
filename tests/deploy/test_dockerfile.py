"""deploy/Dockerfile and its .dockerignore, read statically (no Docker engine here): a non-root final stage
with nothing to compile with, built from `pip install .`, from a build context that holds what it needs."""

from __future__ import annotations

import functools
import json
import os
import re
import shlex
import tomllib
from dataclasses import dataclass, field

from tests.helpers import ROOT
from tests.helpers.deploy import DOCKERFILE, DOCKERIGNORE

BUILD_TOOLS = re.compile(r"\b(build-essential|gcc|g\+\+|clang|make|cmake|cargo|rustc|[a-z-]+-dev)\b")


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [arguments for instruction, arguments in self.instructions if instruction == keyword]


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), with continuation lines joined and comments dropped."""
    logical: list[str] = []
    current = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        logical.append(current + stripped)
        current = ""
    parsed = []
    for entry in logical:
        keyword, _, arguments = entry.partition(" ")
        parsed.append((keyword.upper(), arguments.strip()))
    return parsed


def stages() -> tuple[dict[str, str], list[Stage]]:
    """Global ARG defaults, and the stages in order."""
    args: dict[str, str] = {}
    result: list[Stage] = []
    for keyword, arguments in instructions(DOCKERFILE.read_text(encoding="utf-8")):
        if keyword == "FROM":
            parts = arguments.split()
            base = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), parts[0])
            name = parts[2] if len(parts) == 3 and parts[1].upper() == "AS" else None
            result.append(Stage(base, name))
        elif not result:
            if keyword == "ARG" and "=" in arguments:
                key, _, value = arguments.partition("=")
                args[key] = value
        else:
            result[-1].instructions.append((keyword, arguments))
    return args, result


def exec_form(arguments: str) -> list[str]:
    assert arguments.startswith("["), f"use the exec form (JSON array): {arguments}"
    parsed: list[str] = json.loads(arguments)
    return parsed


# --- .dockerignore, as BuildKit applies it (last matching pattern wins; a match on a parent counts) -----------


@functools.cache
def ignore_patterns() -> list[tuple[bool, re.Pattern[str]]]:
    patterns = []
    for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = line.removeprefix("!").strip("/")
        regex = ""
        index = 0
        while index < len(pattern):
            if pattern.startswith("**/", index):
                regex += "(?:.*/)?"
                index += 3
            elif pattern.startswith("**", index):
                regex += ".*"
                index += 2
            elif pattern[index] == "*":
                regex += "[^/]*"
                index += 1
            elif pattern[index] == "?":
                regex += "[^/]"
                index += 1
            else:
                regex += re.escape(pattern[index])
                index += 1
        patterns.append((negated, re.compile(regex)))
    return patterns


def in_context(relative: str) -> bool:
    parts = relative.split("/")
    candidates = ["/".join(parts[: index + 1]) for index in range(len(parts))]
    included = True
    for negated, pattern in ignore_patterns():
        if any(pattern.fullmatch(candidate) for candidate in candidates):
            included = negated
    return included


@functools.cache
def context_files() -> frozenset[str]:
    """The repository files the build context would hold (caches and virtualenvs are never in it)."""
    skipped = {".git", ".venv", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis", "node_modules"}
    files = set()
    for directory, subdirectories, names in os.walk(ROOT):
        subdirectories[:] = [name for name in subdirectories if name not in skipped]
        for name in names:
            relative = os.path.relpath(os.path.join(directory, name), ROOT).replace(os.sep, "/")
            if in_context(relative):
                files.add(relative)
    return frozenset(files)


def pyproject() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


# --- tests -------------------------------------------------------------------------------------------------------


def test_two_stages_on_python_3_11_slim() -> None:
    _, found = stages()
    assert [stage.name for stage in found] == ["build", "runtime"]
    for stage in found:
        assert stage.base == "python:3.11-slim" or stage.base.startswith("python:3.11-slim@sha256:")


def test_the_final_stage_runs_as_a_non_root_user() -> None:
    final = stages()[1][-1]
    users = final.all("USER")
    assert users, "the final stage must set USER"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}
    assert user == "10001"  # the uid the Kubernetes manifests declare
    assert "--uid 10001" in " ".join(final.all("RUN"))


def test_the_final_stage_has_no_build_tools_and_installs_nothing() -> None:
    final = stages()[1][-1]
    for command in final.all("RUN"):
        assert "apt-get install" not in command and "apk add" not in command, command
        assert "pip install" not in command, command
        assert not BUILD_TOOLS.search(command), command
    copies = final.all("COPY")
    assert any(copy.startswith("--from=build /opt/venv") for copy in copies)


def test_the_build_stage_installs_the_project_from_pyproject() -> None:
    build = stages()[1][0]
    assert any(re.search(r"\bpip install \.(\s|$)", command) for command in build.all("RUN"))
    assert any("pip check" in command for command in build.all("RUN"))
    copied = {source for copy in build.all("COPY") for source in shlex.split(copy)[:-1]}
    assert {"pyproject.toml", "README.md"} <= copied


def test_the_default_command_and_entry_points_exist() -> None:
    final = stages()[1][-1]
    (command,) = final.all("CMD")
    scripts = pyproject()["project"]["scripts"]  # type: ignore[index]
    assert exec_form(command) == ["peer-review-worker"]
    assert {"peer-review", "peer-review-worker"} <= set(scripts)
    assert "register-search-attributes" in " ".join(final.all("COPY"))
    env = " ".join(final.all("ENV"))
    # Services must listen beyond the container's loopback.
    assert "PEER_REVIEW_CODEC_HOST=0.0.0.0" in env and "PEER_REVIEW_API_HOST=0.0.0.0" in env


def test_every_copied_file_is_in_the_build_context() -> None:
    files = context_files()
    for stage in stages()[1]:
        for copy in stage.all("COPY"):
            words = [word for word in shlex.split(copy) if not word.startswith("--")]
            if copy.startswith("--from="):
                continue
            for source in words[:-1]:
                path = ROOT / source
                assert path.exists(), source
                wanted = (
                    [source.rstrip("/")]
                    if path.is_file()
                    else [p.relative_to(ROOT).as_posix() for p in path.rglob("*.py") if "__pycache__" not in p.parts]
                )
                assert wanted, source
                for relative in wanted:
                    assert relative in files, f"{relative} is copied but excluded by the .dockerignore"


def test_the_context_holds_the_whole_package_and_no_secrets_or_local_data() -> None:
    files = context_files()
    tool = pyproject()["tool"]["setuptools"]  # type: ignore[index]
    for module in tool["py-modules"]:
        assert f"{module}.py" in files
    for pattern in tool["packages"]["find"]["include"]:
        package = pattern.rstrip("*")
        sources = [p for p in ROOT.glob(f"{package}/**/*.py") if "__pycache__" not in p.parts]
        assert sources, pattern
        for source in sources:
            assert source.relative_to(ROOT).as_posix() in files
    forbidden = re.compile(r"^(\.venv|\.data|\.git|tests|examples|benchmarks)/|\.key$|keyring.*\.json$|__pycache__")
    leaked = sorted(name for name in files if forbidden.search(name))
    assert not leaked, leaked


def test_the_ignore_file_semantics() -> None:
    assert in_context("peer_review/settings.py")
    assert not in_context("peer_review/__pycache__/settings.cpython-311.pyc")
    assert not in_context(".data/peer-review.key")
    assert not in_context("tests/keys/keyring.json")
    assert in_context("deploy/register-search-attributes.sh")
    assert not in_context("deploy/compose/compose.yaml")


def test_the_image_default_paths_match_the_kubernetes_config() -> None:
    from tests.deploy.test_kubernetes import config

    env = " ".join(stages()[1][-1].all("ENV"))
    assert f"PEER_REVIEW_DIRECTORY={config()['PEER_REVIEW_DIRECTORY']}" in env
    assert f"PEER_REVIEW_KEY_FILE={config()['PEER_REVIEW_KEY_FILE']}" in env

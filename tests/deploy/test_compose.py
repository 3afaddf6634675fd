"""deploy/compose/compose.yaml: the services a production-like single host needs, wired to each other."""

from __future__ import annotations

import re
from typing import Any

from tests.helpers import ROOT
from tests.helpers.deploy import COMPOSE_FILE, env_names, load_yaml, worker_env_names

COMPOSE_DIR = COMPOSE_FILE.parent
RESERVED_HOST_PORTS = {"7233", "8233"}  # `make run` uses them on the same machine


def compose() -> dict[str, Any]:
    data: dict[str, Any] = load_yaml(COMPOSE_FILE)
    return data


def services() -> dict[str, dict[str, Any]]:
    data: dict[str, dict[str, Any]] = compose()["services"]
    return data


def default_of(value: str) -> str:
    """`${VAR:-default}` → default; `${VAR:?message}` has none; anything else is literal."""
    match = re.fullmatch(r"\$\{\w+:-([^}]*)\}", value)
    return match.group(1) if match else value


def env(service: str) -> dict[str, Any]:
    environment: dict[str, Any] = services()[service].get("environment", {})
    return environment


def published(service: str) -> list[tuple[str, str, str]]:
    """(host ip, host port default, container port) for each published port."""
    ports = []
    for entry in services()[service].get("ports", []):
        match = re.fullmatch(r"([\d.]+):(\$\{\w+:-\d+\}|\d+):(\d+)", entry)
        assert match, f"{service}: unexpected port {entry}"
        ip, host, container = match.groups()
        ports.append((ip, default_of(host), container))
    return ports


def api_env_names() -> set[str]:
    try:
        from peer_review.web.config import ApiSettings
    except ImportError:  # the API is being written alongside; until it lands, accept its documented prefixes
        return set()
    return env_names(ApiSettings)


def test_the_required_services_are_there() -> None:
    assert {
        "temporal-db",
        "temporal",
        "temporal-setup",
        "temporal-ui",
        "records-db",
        "worker",
        "codec-server",
        "api",
    } <= set(services())
    assert services()["api"]["profiles"] == ["api"]


def test_temporal_uses_postgresql_for_persistence_and_sql_visibility() -> None:
    temporal = services()["temporal"]
    assert temporal["image"].startswith("temporalio/auto-setup:")
    variables = env("temporal")
    assert variables["DB"] == "postgres12"
    assert variables["POSTGRES_SEEDS"] == variables["SQL_HOST"] == "temporal-db"
    assert variables["ENABLE_ES"] == "false"
    assert variables["VISIBILITY_DBNAME"] == "temporal_visibility"
    assert variables["SKIP_ADD_CUSTOM_SEARCH_ATTRIBUTES"] == "true"
    dynamic_config = variables["DYNAMIC_CONFIG_FILE_PATH"].removeprefix("config/dynamicconfig/")
    assert (COMPOSE_DIR / "dynamicconfig" / dynamic_config).is_file()
    assert temporal["depends_on"]["temporal-db"]["condition"] == "service_healthy"
    assert "SERVING" in " ".join(temporal["healthcheck"]["test"])
    assert services()["temporal-db"]["image"].startswith("postgres:")


def test_the_records_database_is_its_own_postgresql_server() -> None:
    records = services()["records-db"]
    assert records["image"].startswith("postgres:")
    url = env("worker")["PEER_REVIEW_RECORDS_URL"]
    assert url.startswith("postgresql+asyncpg://peer_review:")
    assert url.endswith(f"@records-db:5432/{env('records-db')['POSTGRES_DB']}")
    assert set(records["volumes"]).isdisjoint(services()["temporal-db"]["volumes"])
    # The records network is joined by the worker and the API only.
    members = {name for name, service in services().items() if "records" in service.get("networks", [])}
    assert members == {"records-db", "worker", "api"}


def test_the_setup_job_registers_the_namespace_and_search_attributes_once() -> None:
    setup = services()["temporal-setup"]
    assert setup["image"].startswith("temporalio/admin-tools:")
    assert setup["restart"] == "no"
    assert setup["depends_on"]["temporal"]["condition"] == "service_healthy"
    source, target, mode = setup["volumes"][0].split(":")
    assert (COMPOSE_DIR / source).resolve() == ROOT / "deploy" / "register-search-attributes.sh"
    assert mode == "ro" and setup["entrypoint"] == ["/bin/bash", target]
    assert env("temporal-setup")["TEMPORAL_NAMESPACE"] == env("worker")["TEMPORAL_NAMESPACE"]
    for service in ("worker", "temporal-ui", "api"):
        assert services()[service]["depends_on"]["temporal-setup"]["condition"] == "service_completed_successfully"


def test_the_ui_reaches_the_codec_server_from_the_browser() -> None:
    ui_env = env("temporal-ui")
    codec_url = default_of(ui_env["TEMPORAL_CODEC_ENDPOINT"])
    (_, codec_host_port, codec_port) = published("codec-server")[0]
    assert codec_url == f"http://localhost:{codec_host_port}"
    assert env("codec-server")["PEER_REVIEW_CODEC_PORT"] == codec_port
    (_, ui_host_port, _) = published("temporal-ui")[0]
    assert default_of(env("codec-server")["PEER_REVIEW_CODEC_ALLOWED_ORIGINS"]) == f"http://localhost:{ui_host_port}"
    assert ui_env["TEMPORAL_ADDRESS"] == "temporal:7233"


def test_worker_and_codec_server_share_the_key_ring_secret() -> None:
    for service in ("worker", "codec-server", "api"):
        assert services()[service]["secrets"][0] == "peer-review-keyring"
        assert env(service)["PEER_REVIEW_KEY_FILE"] == "/run/secrets/peer-review-keyring"
    assert "keyring" in compose()["secrets"]["peer-review-keyring"]["file"]
    # The worker and the API also need the chain and signing key rings (the codec server only decrypts).
    for service in ("worker", "api"):
        assert services()[service]["secrets"] == [
            "peer-review-keyring",
            "peer-review-chain-keys",
            "peer-review-signing-keys",
        ]
        assert env(service)["PEER_REVIEW_CHAIN_KEY_FILE"] == "/run/secrets/peer-review-chain-keys"
        assert env(service)["PEER_REVIEW_SIGNING_KEY_FILE"] == "/run/secrets/peer-review-signing-keys"


def test_peer_review_services_run_the_image_built_from_the_dockerfile() -> None:
    for name in ("worker", "codec-server", "api"):
        service = services()[name]
        assert (COMPOSE_DIR / service["build"]["context"] / service["build"]["dockerfile"]).resolve() == (
            ROOT / "deploy" / "Dockerfile"
        )
        assert service["read_only"] is True and service["cap_drop"] == ["ALL"]
    assert services()["worker"]["command"] == ["peer-review-worker"]
    assert services()["codec-server"]["command"] == ["peer-review", "codec-server"]
    assert services()["api"]["command"] == ["peer-review", "api"]


def test_environment_names_are_settings_the_processes_read() -> None:
    worker_known = worker_env_names()
    for service in ("worker", "codec-server"):
        assert set(env(service)) <= worker_known, service
    api_known = api_env_names()
    for name in env("api"):
        assert name in worker_known | api_known or re.match(r"PEER_REVIEW_(API|JWT)_", name), name


def test_the_worker_exposes_metrics_and_outlives_its_grace_period() -> None:
    worker = services()["worker"]
    port = env("worker")["PEER_REVIEW_METRICS_PORT"]
    assert f"127.0.0.1:{port}/metrics" in " ".join(worker["healthcheck"]["test"])
    grace = float(env("worker")["PEER_REVIEW_SHUTDOWN_GRACE_SECONDS"])
    assert float(worker["stop_grace_period"].removesuffix("s")) > grace
    assert worker["depends_on"]["records-db"]["condition"] == "service_healthy"
    assert "ports" not in worker, "workers scale with --scale; publishing a port would clash"


def test_ports_are_local_only_and_leave_make_run_alone() -> None:
    for name in services():
        for ip, host_port, _ in published(name):
            assert ip == "127.0.0.1", name
            assert host_port not in RESERVED_HOST_PORTS, name


def test_bind_mounts_exist() -> None:
    directory = services()["worker"]["volumes"][0]
    assert (COMPOSE_DIR / default_of(directory["source"])).is_file()
    assert directory["read_only"] is True
    assert env("worker")["PEER_REVIEW_DIRECTORY"] == directory["target"]

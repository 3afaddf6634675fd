"""Every YAML file under deploy/ lints clean; the Helm values carry the settings the runbook relies on."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import yaml

from tests.helpers.deploy import DEPLOY, HELM_VALUES, OPERATIONS, load_yaml, yaml_files


def test_every_yaml_file_parses() -> None:
    files = yaml_files()
    assert len(files) >= 15
    for path in files:
        documents = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
        assert documents, path


def test_yamllint_is_clean_including_warnings() -> None:
    lint = [sys.executable, "-m", "yamllint", "--strict", "--format", "parsable"]
    config = ["--config-file", str(DEPLOY / ".yamllint.yaml")]
    result = subprocess.run([*lint, *config, *map(str, yaml_files())], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def helm() -> dict[str, Any]:
    values: dict[str, Any] = load_yaml(HELM_VALUES)
    return values


def test_helm_values_use_postgresql_for_persistence_and_visibility() -> None:
    persistence = helm()["server"]["config"]["persistence"]
    assert persistence["defaultStore"] == "default"
    assert persistence["visibilityStore"] == "visibility"
    assert persistence["numHistoryShards"] >= 512
    for store, database in (("default", "temporal"), ("visibility", "temporal_visibility")):
        sql = persistence["datastores"][store]["sql"]
        assert sql["pluginName"] == sql["driverName"] == "postgres12", store
        assert sql["databaseName"] == database
        # Passwords come from a Secret, never from the values file.
        assert "password" not in sql and sql["existingSecret"], store


def test_helm_values_create_the_namespace_and_wire_the_ui_to_the_codec_server() -> None:
    namespaces = helm()["server"]["config"]["namespaces"]
    assert namespaces["create"] is True
    assert {"name": "peer-review", "retention": "30d"} in namespaces["namespace"]
    web_env = {entry["name"]: entry["value"] for entry in helm()["web"]["additionalEnv"]}
    assert web_env["TEMPORAL_CODEC_ENDPOINT"].startswith("https://")
    assert web_env["TEMPORAL_DEFAULT_NAMESPACE"] == "peer-review"
    # The 1.x chart bundles no databases or monitoring: their 0.x top-level keys must not linger.
    assert not {"cassandra", "elasticsearch", "prometheus", "grafana", "mysql"} & set(helm())


def test_helm_values_document_tls_and_authorization() -> None:
    text = HELM_VALUES.read_text(encoding="utf-8")
    for note in ("requireClientAuth: true", "internode:", "frontend:", "jwtKeyProvider:", "TEMPORAL_AUTH_ENABLED"):
        assert note in text, note


def test_the_runbook_says_what_was_and_was_not_validated() -> None:
    text = OPERATIONS.read_text(encoding="utf-8")
    assert "validated statically" in text
    assert "not run" in text
    for topic in ("KEDA", "key ring", "retention", "workflow.patched", "python -m tests.replay.paths", "mTLS"):
        assert topic in text, topic

"""deploy/k8s: every object against the Kubernetes schemas, KEDA's ScaledObject against our own schema, and the
manifests against each other, the settings and the image."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

import jsonschema
import kubernetes_validate  # type: ignore[import-untyped]
import pytest

from peer_review.domain.staff_directory import load_directory
from tests.helpers.deploy import (
    HELM_VALUES,
    K8S,
    KUBERNETES_VERSION,
    k8s_documents,
    k8s_object,
    load_yaml,
    readme_configuration_variables,
    worker_env_names,
)

CRD_KINDS = {"ScaledObject"}

# What KEDA (2.17+) accepts for a ScaledObject with the `temporal` scaler: the parts these manifests use.
SCALED_OBJECT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "keda.sh/v1alpha1"},
        "kind": {"const": "ScaledObject"},
        "metadata": {
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        },
        "spec": {
            "type": "object",
            "required": ["scaleTargetRef", "triggers"],
            "additionalProperties": False,
            "properties": {
                "scaleTargetRef": {
                    "type": "object",
                    "required": ["name"],
                    "additionalProperties": False,
                    "properties": {
                        "apiVersion": {"type": "string"},
                        "kind": {"type": "string"},
                        "name": {"type": "string"},
                        "envSourceContainerName": {"type": "string"},
                    },
                },
                "pollingInterval": {"type": "integer", "minimum": 1},
                "cooldownPeriod": {"type": "integer", "minimum": 0},
                "idleReplicaCount": {"type": "integer", "minimum": 0},
                "minReplicaCount": {"type": "integer", "minimum": 0},
                "maxReplicaCount": {"type": "integer", "minimum": 1},
                "fallback": {"type": "object"},
                "advanced": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "restoreToOriginalReplicaCount": {"type": "boolean"},
                        "horizontalPodAutoscalerConfig": {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {"name": {"type": "string"}, "behavior": {"type": "object"}},
                        },
                        "scalingModifiers": {"type": "object"},
                    },
                },
                "triggers": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["type", "metadata"],
                        "additionalProperties": False,
                        "properties": {
                            "type": {"type": "string"},
                            "name": {"type": "string"},
                            "metricType": {"enum": ["AverageValue", "Value", "Utilization"]},
                            "useCachedMetrics": {"type": "boolean"},
                            "authenticationRef": {
                                "type": "object",
                                "required": ["name"],
                                "properties": {"name": {"type": "string"}, "kind": {"type": "string"}},
                            },
                            # KEDA reads trigger metadata as strings only.
                            "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
                        },
                        "if": {"properties": {"type": {"const": "temporal"}}},
                        "then": {
                            "properties": {
                                "metadata": {
                                    "required": ["endpoint", "namespace", "taskQueue", "targetQueueSize"],
                                    "propertyNames": {
                                        "enum": [
                                            "endpoint",
                                            "endpointFromEnv",
                                            "namespace",
                                            "taskQueue",
                                            "targetQueueSize",
                                            "activationTargetQueueSize",
                                            "queueTypes",
                                            "workerDeploymentName",
                                            "workerDeploymentBuildId",
                                            "minConnectTimeout",
                                            "unsafeSsl",
                                            "tlsServerName",
                                        ]
                                    },
                                    "properties": {
                                        "targetQueueSize": {"pattern": "^[1-9][0-9]*$"},
                                        "activationTargetQueueSize": {"pattern": "^[0-9]+$"},
                                        "queueTypes": {
                                            "pattern": "^(workflow|activity|nexus)(,(workflow|activity|nexus))*$"
                                        },
                                    },
                                }
                            }
                        },
                    },
                },
            },
        },
    },
}


def config() -> dict[str, str]:
    data: dict[str, str] = k8s_object("ConfigMap", "peer-review-config")["data"]
    return data


def worker_deployment() -> dict[str, Any]:
    return k8s_object("Deployment", "peer-review-worker")


def worker_pod() -> dict[str, Any]:
    pod: dict[str, Any] = worker_deployment()["spec"]["template"]["spec"]
    return pod


def worker_container() -> dict[str, Any]:
    (container,) = worker_pod()["containers"]
    assert isinstance(container, dict)
    return container


def test_every_manifest_matches_the_kubernetes_schema() -> None:
    checked = 0
    for path, document in k8s_documents():
        if document["kind"] in CRD_KINDS:
            continue
        try:
            kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{path.name}: {document['kind']} {document['metadata']['name']}: {error.message}")
        checked += 1
    assert checked >= 10


def test_the_scaled_object_matches_the_keda_schema() -> None:
    scaled = k8s_object("ScaledObject", "peer-review-worker")
    jsonschema.validate(scaled, SCALED_OBJECT_SCHEMA)


def test_the_keda_schema_catches_mistakes() -> None:
    scaled = k8s_object("ScaledObject", "peer-review-worker")
    broken = {**scaled, "spec": {**scaled["spec"], "triggers": [{"type": "temporal", "metadata": {"taskQueue": 1}}]}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCALED_OBJECT_SCHEMA)


def test_the_scaled_object_scales_the_worker_on_its_own_task_queue() -> None:
    scaled = k8s_object("ScaledObject", "peer-review-worker")["spec"]
    assert scaled["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "peer-review-worker"}
    (trigger,) = scaled["triggers"]
    assert trigger["type"] == "temporal"
    assert trigger["metadata"]["endpoint"] == config()["TEMPORAL_ADDRESS"]
    assert trigger["metadata"]["namespace"] == config()["TEMPORAL_NAMESPACE"]
    assert trigger["metadata"]["taskQueue"] == config()["PEER_REVIEW_TASK_QUEUE"]
    # Human actions need a running worker: never scale to zero, and keep more than the PDB's minimum.
    pdb = k8s_object("PodDisruptionBudget", "peer-review-worker")["spec"]
    assert scaled["minReplicaCount"] > pdb["minAvailable"] >= 1
    assert scaled["maxReplicaCount"] >= scaled["minReplicaCount"]
    assert "replicas" not in worker_deployment()["spec"], "let KEDA own the replica count"


def test_kustomization_lists_every_manifest_but_the_secret_examples() -> None:
    kustomization = load_yaml(K8S / "kustomization.yaml")
    listed = set(kustomization["resources"])
    on_disk = {path.name for path in K8S.glob("*.yaml")} - {"kustomization.yaml", "secrets.example.yaml"}
    assert listed == on_disk
    image = worker_container()["image"].rsplit(":", 1)[0]
    assert [entry["name"] for entry in kustomization["images"]] == [image]


def test_the_config_map_sets_only_real_settings_and_covers_the_readme_table() -> None:
    known = worker_env_names()
    keys = set(config())
    assert keys <= known, f"not settings the service reads: {sorted(keys - known)}"
    from_env = {entry["name"] for entry in worker_container()["env"]}
    assert from_env <= known
    provided = keys | from_env
    missing = readme_configuration_variables() - provided
    assert not missing, f"README settings with no value in the ConfigMap or Deployment: {sorted(missing)}"
    assert "PEER_REVIEW_KEY_FILE" in keys and "PEER_REVIEW_METRICS_PORT" in keys


def test_secrets_reach_the_worker_only_from_secrets() -> None:
    env = {entry["name"]: entry for entry in worker_container()["env"]}
    assert env["PEER_REVIEW_RECORDS_URL"]["valueFrom"]["secretKeyRef"] == {"name": "peer-review-records", "key": "url"}
    for name in ("PEER_REVIEW_SMTP_USERNAME", "PEER_REVIEW_SMTP_PASSWORD"):
        assert "secretKeyRef" in env[name]["valueFrom"]
    assert not {"PEER_REVIEW_RECORDS_URL", "PEER_REVIEW_SMTP_PASSWORD"} & set(config())
    examples = {doc["metadata"]["name"] for path, doc in k8s_documents() if path.name == "secrets.example.yaml"}
    assert examples == {"peer-review-keyring", "peer-review-records", "peer-review-smtp"}


def test_the_key_ring_is_a_secret_file_where_the_settings_look() -> None:
    key_file = PurePosixPath(config()["PEER_REVIEW_KEY_FILE"])
    volumes = {volume["name"]: volume for volume in worker_pod()["volumes"]}
    mounts = {mount["name"]: mount for mount in worker_container()["volumeMounts"]}
    secret = volumes["key-ring"]["secret"]
    assert secret["secretName"] == "peer-review-keyring"
    rings = [
        key_file,
        *(PurePosixPath(config()[name]) for name in ("PEER_REVIEW_CHAIN_KEY_FILE", "PEER_REVIEW_SIGNING_KEY_FILE")),
    ]
    assert {ring.parent for ring in rings} == {key_file.parent}
    assert secret["items"] == [{"key": ring.name, "path": ring.name} for ring in rings]
    assert secret["defaultMode"] == 0o440
    assert mounts["key-ring"] == {"name": "key-ring", "mountPath": str(key_file.parent), "readOnly": True}


def test_the_staff_directory_is_a_config_map_file_where_the_settings_look() -> None:
    directory_file = PurePosixPath(config()["PEER_REVIEW_DIRECTORY"])
    volumes = {volume["name"]: volume for volume in worker_pod()["volumes"]}
    mounts = {mount["name"]: mount for mount in worker_container()["volumeMounts"]}
    assert volumes["directory"]["configMap"]["name"] == "peer-review-directory"
    assert volumes["directory"]["configMap"]["items"] == [{"key": directory_file.name, "path": directory_file.name}]
    # A whole-directory mount (no subPath), so ConfigMap updates reach running pods.
    assert mounts["directory"] == {"name": "directory", "mountPath": str(directory_file.parent), "readOnly": True}


def test_the_directory_config_map_is_a_valid_staff_directory(tmp_path: Any) -> None:
    content = k8s_object("ConfigMap", "peer-review-directory")["data"]["directory.yaml"]
    path = tmp_path / "directory.yaml"
    path.write_text(content, encoding="utf-8")
    directory = load_directory(path)
    assert directory.staff


def test_probes_and_scrape_annotations_use_the_metrics_port() -> None:
    port = int(config()["PEER_REVIEW_METRICS_PORT"])
    container = worker_container()
    assert container["ports"] == [{"name": "metrics", "containerPort": port, "protocol": "TCP"}]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/metrics", "port": "metrics"}, probe
    annotations = worker_deployment()["spec"]["template"]["metadata"]["annotations"]
    assert annotations == {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": str(port),
        "prometheus.io/path": "/metrics",
    }
    policy = k8s_object("NetworkPolicy", "peer-review-worker")["spec"]
    assert policy["ingress"] == [{"ports": [{"protocol": "TCP", "port": port}]}]


def test_the_worker_is_bounded_unprivileged_and_stops_gracefully() -> None:
    container = worker_container()
    resources = container["resources"]
    assert set(resources["requests"]) == {"cpu", "memory"} and set(resources["limits"]) == {"cpu", "memory"}
    pod = worker_pod()
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001  # the image's USER (deploy/Dockerfile)
    assert pod["automountServiceAccountToken"] is False
    security = container["securityContext"]
    assert security == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert pod["terminationGracePeriodSeconds"] > float(config()["PEER_REVIEW_SHUTDOWN_GRACE_SECONDS"])
    assert worker_deployment()["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


def test_selectors_agree() -> None:
    labels = worker_deployment()["spec"]["template"]["metadata"]["labels"]
    assert worker_deployment()["spec"]["selector"]["matchLabels"] == labels
    assert k8s_object("PodDisruptionBudget", "peer-review-worker")["spec"]["selector"]["matchLabels"] == labels
    assert k8s_object("NetworkPolicy", "peer-review-worker")["spec"]["podSelector"]["matchLabels"] == labels


def test_the_registration_job_runs_the_script_from_the_worker_image() -> None:
    job = k8s_object("Job", "peer-review-register-search-attributes")["spec"]
    (container,) = job["template"]["spec"]["containers"]
    assert container["image"] == worker_container()["image"]
    assert container["command"] == ["register-search-attributes"]
    env = {entry["name"]: entry for entry in container["env"]}
    for name in ("TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE"):
        assert env[name]["valueFrom"]["configMapKeyRef"] == {"name": "peer-review-config", "key": name}
    # One retention everywhere: the Helm chart's namespace job and this job must not fight over it.
    helm_namespaces = load_yaml(HELM_VALUES)["server"]["config"]["namespaces"]["namespace"]
    assert {"name": config()["TEMPORAL_NAMESPACE"], "retention": env["TEMPORAL_NAMESPACE_RETENTION"]["value"]} in (
        helm_namespaces
    )
    assert job["template"]["spec"]["restartPolicy"] == "OnFailure"

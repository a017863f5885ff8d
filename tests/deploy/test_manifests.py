"""The Kubernetes manifests in deploy/k8s: consistent with each other, with the app and with the
image, and safe to run (probes, resources, disruption budget, no privileges)."""

from __future__ import annotations

import re

from django.urls import Resolver404, resolve

from tests.deploy.helpers import (
    DEPLOY,
    env_file,
    gunicorn_variables,
    one,
    settings_variables,
)


def web_container(manifests):
    deployment = one(manifests, "Deployment", "kb-web")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return deployment, container


def test_the_web_tier_is_a_deployment_a_service_and_a_disruption_budget(manifests):
    deployment, _ = web_container(manifests)
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector.items() <= pod_labels.items()
    assert deployment["spec"]["replicas"] >= 2
    service = one(manifests, "Service", "kb-web")
    assert service["spec"]["selector"] == selector
    pdb = one(manifests, "PodDisruptionBudget", "kb-web")
    assert pdb["spec"]["selector"]["matchLabels"] == selector
    # Drains can always make progress, and never take more than one pod at a time.
    assert pdb["spec"].get("maxUnavailable") == 1


def test_probes_hit_the_health_endpoints_on_the_served_port(manifests):
    _, container = web_container(manifests)
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["GUNICORN_BIND"].endswith(f":{ports['http']}")
    expected = {
        "startupProbe": "/healthz",
        "livenessProbe": "/healthz",
        "readinessProbe": "/readyz",
    }
    for probe, path in expected.items():
        http = container[probe]["httpGet"]
        assert http["path"] == path and http["port"] == "http"
        try:
            resolve(path)
        except Resolver404:  # pragma: no cover - the assertion message is the point
            raise AssertionError(f"{probe} path {path} is not served by the app") from None
    # Liveness must not depend on the database, readiness must.
    assert container["livenessProbe"] != container["readinessProbe"]


def test_the_service_targets_the_named_container_port(manifests):
    _, container = web_container(manifests)
    service = one(manifests, "Service", "kb-web")
    names = {p["name"] for p in container["ports"]}
    assert {p["targetPort"] for p in service["spec"]["ports"]} <= names


def test_resources_request_cpu_and_memory_and_limit_only_memory(manifests):
    _, container = web_container(manifests)
    resources = container["resources"]
    assert {"cpu", "memory"} <= resources["requests"].keys()
    assert set(resources["limits"]) == {"memory"}


def test_pods_run_unprivileged_with_a_read_only_root(manifests):
    for workload in [one(manifests, "Deployment"), one(manifests, "Job")]:
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == image_uid()
        assert pod["automountServiceAccountToken"] is False
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False
            assert context["readOnlyRootFilesystem"] is True
            assert context["capabilities"]["drop"] == ["ALL"]
            assert not container["image"].endswith(":latest") and ":" in container["image"]


def test_writable_paths_are_volumes(manifests):
    """With a read-only root, KB_VAR_DIR (search index, var files) and /tmp must be mounted."""
    _, container = web_container(manifests)
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    var_dir = re.search(r"KB_VAR_DIR=(\S+)", (DEPLOY / "Containerfile").read_text()).group(1)
    assert {var_dir, "/tmp"} <= mounts


def test_the_pod_ip_is_an_allowed_host_so_kubelet_probes_pass(manifests):
    _, container = web_container(manifests)
    env = {e["name"]: e for e in container["env"]}
    assert env["POD_IP"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"
    assert "$(POD_IP)" in env["ALLOWED_HOSTS"]["value"].split(",")
    # Kubernetes only expands $(VAR) for variables defined earlier in the list.
    names = [e["name"] for e in container["env"]]
    assert names.index("POD_IP") < names.index("ALLOWED_HOSTS")


def test_every_configured_variable_is_one_the_app_reads(manifests):
    known = settings_variables() | gunicorn_variables()
    known |= {f"{name}_FILE" for name in known}
    config = one(manifests, "ConfigMap", "kb-config")["data"]
    assert set(config) <= known
    _, container = web_container(manifests)
    assert {e["name"] for e in container["env"]} - {"POD_IP"} <= known


def test_the_configmap_matches_the_documented_production_environment(manifests):
    config = one(manifests, "ConfigMap", "kb-config")["data"]
    documented = env_file(DEPLOY / "production.env")
    assert set(config) <= set(documented)
    assert {k: documented[k] for k in config} == config


def image_uid() -> int:
    text = (DEPLOY / "Containerfile").read_text()
    return int(re.search(r"^USER (\d+)", text, re.MULTILINE).group(1))

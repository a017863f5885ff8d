"""Property tests: no input crashes the engine, and no rule fails on any object shape."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incidents.rules.engine import check_text
from incidents.rules.formats import render
from incidents.rules.registry import REGISTRY
from tests.rules.helpers import fake_story_resolver, fixture_files

KINDS = sorted({k for r in REGISTRY.manifest_rules() for k in r.kinds} | {"List"})
# Every field name some rule reads, so generated objects reach deep into the checks.
KEYS = [
    "spec",
    "template",
    "metadata",
    "labels",
    "annotations",
    "name",
    "namespace",
    "containers",
    "initContainers",
    "resources",
    "limits",
    "requests",
    "cpu",
    "memory",
    "readinessProbe",
    "livenessProbe",
    "httpGet",
    "exec",
    "command",
    "path",
    "port",
    "timeoutSeconds",
    "periodSeconds",
    "failureThreshold",
    "lifecycle",
    "preStop",
    "sleep",
    "seconds",
    "terminationGracePeriodSeconds",
    "replicas",
    "selector",
    "matchLabels",
    "matchExpressions",
    "key",
    "operator",
    "values",
    "affinity",
    "podAntiAffinity",
    "topologySpreadConstraints",
    "topologyKey",
    "type",
    "externalTrafficPolicy",
    "webhooks",
    "failurePolicy",
    "namespaceSelector",
    "globalDefault",
    "preemptionPolicy",
    "value",
    "jobTemplate",
    "activeDeadlineSeconds",
    "backoffLimit",
    "concurrencyPolicy",
    "startingDeadlineSeconds",
    "successfulJobsHistoryLimit",
    "image",
    "imagePullPolicy",
    "securityContext",
    "privileged",
    "hostPID",
    "hostNetwork",
    "volumes",
    "hostPath",
    "roleRef",
    "subjects",
    "kind",
    "dnsPolicy",
    "dnsConfig",
    "options",
    "rules",
    "http",
    "paths",
    "backend",
    "service",
    "serviceName",
    "defaultBackend",
    "maxUnavailable",
    "minAvailable",
    "podCIDR",
    "podCIDRs",
    "scaleTargetRef",
    "minReplicas",
    "items",
    "ports",
    "loadBalancerSourceRanges",
    "apiVersion",
]
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**40), max_value=2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(
        [
            "",
            "0",
            "100%",
            "Fail",
            "Local",
            "LoadBalancer",
            "cluster-admin",
            "10.0.0.0/24",
            "500m",
            "1Gi",
            "latest",
            "x:latest",
            "/",
            "Always",
            "ServiceAccount",
            "Never",
            "In",
            "NotIn",
            "sleep 5",
            "web",
        ]
    )
    | st.text(max_size=8)
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(KEYS), children, max_size=5)
    ),
    max_leaves=40,
)
objects = st.fixed_dictionaries(
    {
        "apiVersion": st.sampled_from(["v1", "apps/v1", "batch/v2alpha1", "x/v1beta1"]),
        "kind": st.sampled_from(KINDS),
    },
    optional={
        "metadata": values,
        "spec": values,
        "webhooks": values,
        "items": values,
        "subjects": values,
        "roleRef": values,
        "globalDefault": values,
    },
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(objects, min_size=1, max_size=6))
def test_no_rule_fails_on_any_object_shape(docs):
    text = "\n---\n".join(json.dumps(d) for d in docs)
    report = check_text(text, params={"pod-cidr": "10.0.0.0/16"})
    assert [e for e in report.errors if e.code == "rule-failed"] == []
    for fmt in ("text", "json", "sarif"):
        render(report, fmt, story_resolver=fake_story_resolver)


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300)))
def test_no_text_or_bytes_crash_the_engine(data):
    report = check_text(data)
    assert report.exit_code("info") in (0, 1, 2)
    render(report, "json")


FIXTURE_TEXTS = [p.read_text() for p in fixture_files()]


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(FIXTURE_TEXTS),
    st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 20), st.text(max_size=4)), max_size=4),
)
def test_mangled_manifests_never_crash(text, edits):
    for position, length, insert in edits:
        position %= len(text) + 1
        text = text[:position] + insert + text[position + length :]
    report = check_text(text)
    assert [e for e in report.errors if e.code == "rule-failed"] == []

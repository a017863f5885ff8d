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


# --- Hostile shapes for the loader (issue 19): numbers Python cannot convert or print, YAML 1.1
# sexagesimals, lone surrogates, deep nesting, aliases, python tags, duplicate keys, NUL bytes.

_digits = st.text("0123456789", min_size=1, max_size=6000).map(lambda d: "1" + d)
_sexagesimal = st.lists(st.integers(0, 59), min_size=1, max_size=3000).map(
    lambda parts: "1:" + ":".join(map(str, parts))
)
_scalar_fragments = st.one_of(
    _digits,
    _digits.map(lambda d: "0x" + d),
    _digits.map(lambda d: "-" + d + ".5e+" + d[:3]),
    _sexagesimal,
    _sexagesimal.map(lambda s: s + ".25"),
    st.sampled_from(['"\\ud800"', '"\\udfff x"', '"\\ud83d\\ude00"', '"a\\u0000b"', ".inf"]),
    st.sampled_from(["!!python/object/apply:os.system [id]", "!!int 12", "!!float 1:2", "*a"]),
    st.text(max_size=20).map(json.dumps),
)


@st.composite
def hostile_documents(draw) -> str:
    value = draw(_scalar_fragments)
    depth = draw(st.integers(0, 200))
    value = "[" * depth + value + "]" * depth
    if draw(st.booleans()):  # JSON
        body = '{"kind": "Deployment", "metadata": {"name": "w"}, "spec": {"replicas": %s}}'
    else:
        body = "kind: Deployment\nmetadata: {name: w}\nspec: {replicas: %s}\n"
    text = body % value
    if draw(st.booleans()):
        text += "\n---\n" + "a: &a [x, x]\nb: [*a, *a]\n" * draw(st.integers(0, 3))
    if draw(st.booleans()):
        text = "dup: 1\n" * draw(st.integers(1, 50)) + "---\n" + text
    return text


def _strings_and_ints(value):
    todo = [value]
    while todo:
        v = todo.pop()
        if isinstance(v, dict):
            todo.extend(v.keys())
            todo.extend(v.values())
        elif isinstance(v, list):
            todo.extend(v)
        else:
            yield v


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_documents())
def test_hostile_shapes_load_as_safe_values_or_errors_quickly(text):
    import time

    from incidents.rules.parsing import MAX_NUMBER_CHARS, load_documents

    started = time.process_time()
    result = load_documents(text)
    assert time.process_time() - started < 0.5 + len(text) / 1e6
    for document in result.documents:
        for v in _strings_and_ints(document.data):
            if isinstance(v, str):
                v.encode("utf-8")  # no lone surrogate survives
            elif isinstance(v, int) and not isinstance(v, bool):
                assert len(str(abs(v))) <= MAX_NUMBER_CHARS * 4  # printable, never huge
    report = check_text(text)
    assert [e for e in report.errors if e.code == "rule-failed"] == []
    render(report, "json").encode("utf-8")

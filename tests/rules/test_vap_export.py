"""`kbcheck --export vap`: every CEL expression compiles (cel-python) and, on the rule fixtures,
decides exactly what the Python rule decides for each object."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import celpy
import pytest
import yaml

from incidents.rules import cli
from incidents.rules.admission_review import ObjectOnlyContext, check_object
from incidents.rules.engine import suppressed_rules
from incidents.rules.objects import K8sObject
from incidents.rules.registry import REGISTRY
from incidents.rules.vap import CEL

FIXTURES = Path(__file__).parent / "fixtures"
ENV = celpy.Environment()


def export() -> str:
    out = io.StringIO()
    real = sys.stdout
    sys.stdout = out
    try:
        assert cli.main(["--export", "vap", "--site-url", "https://kb.example"]) == 0
    finally:
        sys.stdout = real
    return out.getvalue()


OUTPUT = export()
DOCUMENTS = [d for d in yaml.safe_load_all(OUTPUT) if d]
POLICIES = {
    d["metadata"]["labels"]["kb.k8s.af/rule"]: d
    for d in DOCUMENTS
    if d["kind"] == "ValidatingAdmissionPolicy"
}


def program(expression: str):
    return ENV.program(ENV.compile(expression))


class Compiled:
    """A policy's expressions compiled once: evaluate(obj) -> True when the object passes."""

    def __init__(self, policy: dict):
        spec = policy["spec"]
        self.conditions = [program(c["expression"]) for c in spec["matchConditions"]]
        self.variables = [(v["name"], program(v["expression"])) for v in spec["variables"]]
        self.validations = [program(v["expression"]) for v in spec["validations"]]

    def passes(self, obj: dict) -> bool:
        activation = {"object": celpy.json_to_cel(obj)}
        if not all(strict(c, activation) for c in self.conditions):
            return True  # the policy does not apply to this object
        variables = celpy.celtypes.MapType({})
        for name, prog in self.variables:
            value = strict(prog, {**activation, "variables": variables}, boolean=False)
            variables = celpy.celtypes.MapType(
                {**variables, celpy.celtypes.StringType(name): value}
            )
        activation["variables"] = variables
        return all(strict(v, activation) for v in self.validations)


def strict(prog, activation: dict, *, boolean: bool = True):
    """Evaluate; an evaluation error (cel-python returns it as a value) fails the test."""
    value = prog.evaluate(activation)
    assert not isinstance(value, celpy.CELEvalError), value
    if boolean:
        assert isinstance(value, celpy.celtypes.BoolType), value
        return bool(value)
    return value


COMPILED = {rule_id: Compiled(policy) for rule_id, policy in POLICIES.items()}


def fixture_objects() -> list[tuple[str, dict]]:
    """Every object of every rule fixture, with the fixture's name."""
    found = []
    for path in sorted(FIXTURES.rglob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if not isinstance(document, dict):
                continue
            items = document.get("items") if document.get("kind", "").endswith("List") else None
            for obj in items if isinstance(items, list) else [document]:
                if isinstance(obj, dict) and isinstance(obj.get("kind"), str):
                    found.append((f"{path.parent.name}/{path.name}", obj))
    return found


OBJECTS = fixture_objects()


def python_passes(rule, obj: dict) -> bool:
    """The Python rule on this object alone: no finding (suppression applied)."""
    if obj["kind"] not in rule.kinds:
        return True
    hits = list(rule.check(K8sObject(obj, 0), ObjectOnlyContext({})) or ())  # never asks more
    ignored = suppressed_rules(K8sObject(obj, 0))[0]
    return not hits or rule.id in ignored or rule.slug in ignored


def test_every_translated_rule_is_exported_with_a_binding():
    assert set(POLICIES) == set(CEL)
    bindings = {d["spec"]["policyName"] for d in DOCUMENTS if d["kind"].endswith("Binding")}
    assert bindings == {p["metadata"]["name"] for p in POLICIES.values()}
    for rule_id, policy in POLICIES.items():
        assert policy["spec"]["failurePolicy"] == "Ignore"
        message = policy["spec"]["validations"][0]["message"]
        assert message.startswith(f"{rule_id} {REGISTRY.get(rule_id).slug}: ")
        assert "https://kb.example/stories/" in message


def test_the_others_are_listed_as_not_exportable_with_a_reason():
    header = OUTPUT.split("\n---", 1)[0]
    for rule in REGISTRY.manifest_rules():
        if rule.id not in CEL:
            line = next(line for line in header.splitlines() if f"#   {rule.id} " in line)
            assert len(line.split(": ", 1)[1]) > 10


@pytest.mark.parametrize("rule_id", sorted(CEL))
def test_cel_decides_as_the_python_rule_on_the_fixtures(rule_id):
    rule = REGISTRY.get(rule_id)
    compiled = COMPILED[rule_id]
    own_fails = own_passes = 0
    for name, obj in OBJECTS:
        if obj["kind"] not in rule.kinds:
            continue
        expected = python_passes(rule, obj)
        assert compiled.passes(obj) is expected, f"{rule_id} on {name} {obj['kind']}"
        if name.startswith(f"{rule_id}/"):
            own_fails += not expected
            own_passes += expected
    # The rule's own fixtures show both outcomes, so the comparison is not vacuous.
    assert own_fails and own_passes, (rule_id, own_fails, own_passes)


def test_the_python_rules_exported_never_need_other_objects():
    for rule_id in CEL:
        rule = REGISTRY.get(rule_id)
        for _, obj in OBJECTS:
            if obj["kind"] in rule.kinds:
                check_object(obj, [rule])  # raises nothing: NeedsOtherObjects is not caught


@pytest.mark.parametrize(
    "annotation",
    [
        "KB021",
        "kb021",
        "privileged-container",
        "KB019, KB021: node agent",
        "KB019;privileged-container",
        " KB021 : reviewed by the platform team",
        "KB019: mentions KB021 only in the reason",
        "KB0211",
        "privileged-container-x",
        "",
    ],
)
def test_the_ignore_annotation_reads_as_kbcheck_reads_it(annotation):
    (_, agent) = next((n, o) for n, o in OBJECTS if n == "KB021/scope-agent-FAILS.yaml")
    obj = {
        **agent,
        "metadata": {**agent["metadata"], "annotations": {"kb.k8s.af/ignore": annotation}},
    }
    rule = REGISTRY.get("KB021")
    assert COMPILED["KB021"].passes(obj) is python_passes(rule, obj)


def test_objects_made_by_a_controller_are_left_out():
    (_, agent) = next((n, o) for n, o in OBJECTS if n == "KB021/scope-agent-FAILS.yaml")
    owned = {
        **agent,
        "metadata": {
            **agent["metadata"],
            "ownerReferences": [{"kind": "ReplicaSet", "name": "x", "controller": True}],
        },
    }
    assert COMPILED["KB021"].passes(agent) is False
    assert COMPILED["KB021"].passes(owned) is True


def pod(container: dict, **spec) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", **container}], **spec},
    }


IMAGES = [
    "nginx",
    "nginx:latest",
    "nginx:1.25",
    "nginx:",
    "registry:5000/nginx",
    "registry:5000/nginx:1.2",
    "registry:5000/team/app:latest",
    "nginx@sha256:0123abcd",
    "nginx:latest@sha256:0123abcd",
    "<image_url>",
    "${REGISTRY}/app",
    "",
]


@pytest.mark.parametrize("image", IMAGES)
@pytest.mark.parametrize("policy", [None, "Always", "IfNotPresent"])
def test_image_references_parse_as_in_python(image, policy):
    container = {"image": image, **({"imagePullPolicy": policy} if policy else {})}
    obj = pod(container)
    daemonset = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "d"},
        "spec": {"template": {"spec": obj["spec"]}},
    }
    assert COMPILED["KB019"].passes(obj) is python_passes(REGISTRY.get("KB019"), obj)
    assert COMPILED["KB020"].passes(daemonset) is python_passes(REGISTRY.get("KB020"), daemonset)


@pytest.mark.parametrize(
    "path", ["/", "//", "/etc", "/etc/", "/etcd", "/var/run/docker.sock", "/var/lib/kubelet/x", ""]
)
def test_host_paths_normalise_as_in_python(path):
    obj = pod({"image": "a:1"}, volumes=[{"name": "v", "hostPath": {"path": path}}])
    assert COMPILED["KB023"].passes(obj) is python_passes(REGISTRY.get("KB023"), obj)

"""Run the manifest rules over an input and collect a Report.

    report = check_text(text, skip={"KB001"}, params={"pod-cidr": "10.0.0.0/16"})

Every object of every document is checked against the rules for its kind (unknown kinds are
ignored); then input-wide rules (a Service selecting nothing, an Ingress naming a missing
Service, pod CIDR use over a Node list) look across all objects through the `Context`.

Silencing:
- for one object, the annotation `kb.k8s.af/ignore` on the object's metadata, listing rule IDs
  or slugs separated by commas, optionally followed by `: reason`:
  `kb.k8s.af/ignore: "KB001, latest-image-tag: pinned by digest in CI"`;
- for a whole run, `skip=` (the `--skip` flag of kbcheck).

Input problems never raise: they become `Report.errors` entries. Unknown rule IDs in `skip` or
unknown parameter names raise `UsageError`, a programming or command-line mistake.
"""

from __future__ import annotations

import dataclasses
import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from incidents.rules.base import Hit, Rule
from incidents.rules.findings import Finding, Report
from incidents.rules.objects import (
    WORKLOAD_KINDS,
    K8sObject,
    as_dict,
    as_int,
    as_list,
    as_str,
    containers,
    pod_template_labels,
    replicas,
)
from incidents.rules.parsing import (
    InputError,
    InputRefused,
    Limits,
    load_documents,
)
from incidents.rules.relations import (
    containers_behind,
    is_custom_resource,
    operator_made,
    runtime_label_kinds,
    workload_selected,
)

IGNORE_ANNOTATION = "kb.k8s.af/ignore"


class UsageError(ValueError):
    """A caller mistake: unknown rule in `skip`, unknown parameter."""


SCOPES = ("file", "dir", "all")
DEFAULT_SCOPE = "dir"
DEFAULT_NAMESPACE = "default"
_NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


class Context:
    """Everything a rule may look at besides its own object: the other objects and the params.

    A context holds the objects of one application (see `scope_key`). Cross-object helpers
    relate objects of one namespace only; an object without `metadata.namespace` is in
    `namespace` (kbcheck `--namespace`, default `default`), where `kubectl apply` puts it.
    """

    def __init__(
        self,
        objects: Sequence[K8sObject],
        params: Mapping[str, str],
        namespace: str = DEFAULT_NAMESPACE,
    ):
        self.objects = objects
        self.params = params
        self.namespace = namespace
        self._by_kind: dict[str, list[K8sObject]] = {}
        self._indexes: dict[str, Any] = {}
        for obj in objects:
            self._by_kind.setdefault(obj.kind, []).append(obj)

    def param(self, name: str, default: str | None = None) -> str | None:
        return self.params.get(name, default)

    def of_kind(self, *kinds: str) -> list[K8sObject]:
        if len(kinds) == 1:
            return self._by_kind.get(kinds[0], [])
        return [o for k in kinds for o in self._by_kind.get(k, [])]

    def workloads(self) -> list[K8sObject]:
        return self.of_kind(*WORKLOAD_KINDS)

    def ns(self, namespace: str) -> str:
        """The namespace an object with `metadata.namespace: namespace` is applied to."""
        return namespace or self.namespace

    def same_namespace(self, a: str, b: str) -> bool:
        return (a or self.namespace) == (b or self.namespace)

    def pods_selected_by(self, selector: Any, namespace: str) -> list[K8sObject]:
        """Workloads in `namespace` whose pods the selector matches, counting the labels their
        controllers add at runtime (`pod-template-hash`, `statefulset.kubernetes.io/pod-name`)."""
        pairs = _selector_pairs(selector)
        if pairs:
            index = self._index("workloads", self.workloads(), pod_template_labels)
            candidates = index.get(pairs[0], [])
        else:
            candidates = self.workloads() if selector else []
        return [
            w
            for w in candidates
            if self.same_namespace(w.namespace, namespace)
            and workload_selected(selector, w, pod_template_labels(w))
        ]

    def services_selecting(self, workload: K8sObject) -> list[K8sObject]:
        """Services in the workload's namespace whose selector matches its pods."""
        cached = workload._cache.get("services")
        if cached is None:
            cached = workload._cache["services"] = self._selecting(
                "Service", workload, lambda s: as_dict(s.spec.get("selector"))
            )
        return cached

    def serving_containers(self, workload: K8sObject) -> list[tuple[dict, str, K8sObject]]:
        """(container, path, Service) for each container a Service port of the input sends
        traffic to (matched by `targetPort`, see `relations.containers_behind`)."""
        found: dict[str, tuple[dict, str, K8sObject]] = {}
        for service in self.services_selecting(workload):
            for container, path in containers_behind(service, workload):
                found.setdefault(path, (container, path, service))
        return [found[path] for _, path in containers(workload) if path in found]

    def custom_resources(self, namespace: str) -> list[K8sObject]:
        """Custom resources (kinds outside the built-in API groups) in `namespace`: what
        operators turn into workloads and Services at runtime."""
        everything = self._indexes.get("custom-resources")
        if everything is None:
            everything = self._indexes["custom-resources"] = [
                o for o in self.objects if is_custom_resource(o)
            ]
        return [o for o in everything if self.same_namespace(o.namespace, namespace)]

    def operator_made(self, selector: Any, namespace: str) -> str | None:
        """Why pods matching `selector` may be made by an operator (see `relations`), or None."""
        return operator_made(selector, self.custom_resources(namespace))

    def replicas(self, workload: K8sObject) -> int | None:
        """Replicas a serving workload runs at least: `spec.replicas` (default 1), or the
        `minReplicas` of a HorizontalPodAutoscaler of the input that targets it."""
        count = replicas(workload)
        if count is None:
            return None
        hpas = self.named("HorizontalPodAutoscaler", workload.name, workload.namespace, _hpa_target)
        for hpa in hpas:
            target = as_dict(hpa.spec.get("scaleTargetRef"))
            if target.get("kind") == workload.kind and target.get("name") == workload.name:
                minimum = as_int(hpa.spec.get("minReplicas", 1))
                if minimum is not None:
                    count = minimum  # the HPA owns spec.replicas from then on
        return count

    def named(self, kind: str, name: str, namespace: str, key=None) -> list[K8sObject]:
        """Objects of `kind` in `namespace` called `name` (or whose `key(obj)` is `name`).

        Indexed, so cross-object lookups stay linear in the size of the input.
        """
        index_key = f"named:{kind}:{getattr(key, '__name__', '')}"
        index = self._indexes.get(index_key)
        if index is None:
            index = {}
            for obj in self.of_kind(kind):
                index.setdefault(key(obj) if key else obj.name, []).append(obj)
            self._indexes[index_key] = index
        return [o for o in index.get(name, ()) if self.same_namespace(o.namespace, namespace)]

    def has_workloads_in(self, namespace: str) -> bool:
        """Whether this application defines workloads in `namespace`."""
        namespaces = self._indexes.get("workload-namespaces")
        if namespaces is None:
            namespaces = self._indexes["workload-namespaces"] = {
                self.ns(w.namespace) for w in self.workloads()
            }
        return self.ns(namespace) in namespaces

    def pdbs_covering(self, workload: K8sObject) -> list[K8sObject]:
        return self._selecting("PodDisruptionBudget", workload, lambda p: p.spec.get("selector"))

    def _selecting(self, kind: str, workload: K8sObject, selector_of) -> list[K8sObject]:
        """Objects of `kind` whose selector matches the workload's pods.

        Selectors are indexed by each of their `key=value` pairs, so a lookup costs the number
        of the workload's labels, not the number of objects (10,000 Services stay fast).
        """
        key = f"by-selector:{kind}"
        index = self._indexes.get(key)
        if index is None:
            index = self._indexes[key] = _selector_index(self.of_kind(kind), selector_of)
        labels = pod_template_labels(workload)
        seen: dict[int, K8sObject] = {}
        for name, value in labels.items():
            for obj in index[0].get((name, as_str(value)), ()):
                seen[id(obj)] = obj
        for obj in index[1]:
            seen[id(obj)] = obj
        return [
            o
            for o in seen.values()
            if self.same_namespace(o.namespace, workload.namespace)
            and workload_selected(selector_of(o), workload, labels)
        ]

    def _index(self, key: str, objects: list[K8sObject], labels_of) -> dict:
        index = self._indexes.get(key)
        if index is None:
            index = {}
            for obj in objects:
                for name, value in labels_of(obj).items():
                    index.setdefault((name, as_str(value)), []).append(obj)
            self._indexes[key] = index
        return index


def _selector_pairs(selector: Any) -> list[tuple]:
    """The `key=value` pairs a selector requires, leaving out the labels controllers add at
    runtime (no pod template carries them, so they cannot be looked up in an index)."""
    if not isinstance(selector, dict):
        return []
    if "matchLabels" in selector or "matchExpressions" in selector:
        selector = as_dict(selector.get("matchLabels"))
    return [(k, as_str(v)) for k, v in selector.items() if not runtime_label_kinds(k)]


def _selector_index(objects: list[K8sObject], selector_of) -> tuple[dict, list]:
    """(pair -> objects whose selector requires it, objects to test always)."""
    by_pair: dict = {}
    always: list[K8sObject] = []
    for obj in objects:
        pairs = _selector_pairs(selector_of(obj))
        if not pairs:
            always.append(obj)
            continue
        try:
            by_pair.setdefault(pairs[0], []).append(obj)
        except TypeError:  # an unhashable label name
            always.append(obj)
    return by_pair, always


def _hpa_target(hpa: K8sObject) -> str:
    return as_str(as_dict(hpa.spec.get("scaleTargetRef")).get("name"))


def scope_key(name: str | None, scope: str, index: int) -> str:
    """Which application an input belongs to: cross-object rules relate objects of one
    application only. `file`: each input alone; `dir`: the inputs of one folder (and stdin
    alone); `all`: every input of the run together."""
    if scope == "all":
        return ""
    if scope == "file" or not name or name in ("-", "stdin"):
        return f"#{index}"
    return posixpath.dirname(name.replace("\\", "/"))


def check_text(
    text: str | bytes,
    *,
    skip: Iterable[str] = (),
    params: Mapping[str, str] | None = None,
    limits: Limits | None = None,
    namespace: str = DEFAULT_NAMESPACE,
) -> Report:
    """Check one input (YAML or JSON, one or many documents)."""
    return check_inputs(
        [(None, text)], skip=skip, params=params, limits=limits, namespace=namespace
    )


def check_inputs(
    inputs: Sequence[tuple[str | None, str | bytes]],
    *,
    skip: Iterable[str] = (),
    params: Mapping[str, str] | None = None,
    limits: Limits | None = None,
    rules: Sequence[Rule] | None = None,
    scope: str = DEFAULT_SCOPE,
    namespace: str = DEFAULT_NAMESPACE,
) -> Report:
    """Check several named inputs. Cross-object rules relate the objects of one application
    (`scope`: `file`, `dir`, the default, or `all`; see `scope_key`) and one namespace (objects
    without one are in `namespace`)."""
    from incidents.rules.registry import REGISTRY

    if scope not in SCOPES:
        raise UsageError(f"unknown scope {scope!r} (choose from {', '.join(SCOPES)})")
    if not isinstance(namespace, str) or not _NAMESPACE.match(namespace):
        raise UsageError(f"--namespace {namespace!r}: not a valid namespace name")
    active = _active_rules(rules if rules is not None else REGISTRY.manifest_rules(), skip)
    params = _checked_params(dict(params or {}), rules or REGISTRY.manifest_rules())
    report = Report()
    groups: dict[str, list[K8sObject]] = {}
    origins: dict[tuple, Any] = {}  # (input index, document index) -> parsing.Document
    position = 0
    for input_index, (name, text) in enumerate(inputs):
        try:
            loaded = load_documents(text, limits)
        except InputRefused as exc:
            report.errors.append(InputError(None, None, str(exc), exc.code, name))
            continue
        for error in loaded.errors:
            report.errors.append(_named(error, name))
        for warning in loaded.warnings:
            report.warnings.append(_named(warning, name))
        report.documents += len(loaded.documents)
        group = groups.setdefault(scope_key(name, scope, input_index), [])
        for document in loaded.documents:
            origins[(input_index, document.index)] = document
            found = _objects(document.data, document.index)
            if not found:
                report.skipped += 1
            for obj in found:
                obj.source = document.source
                obj.origin = document
                obj.input_index = input_index
                obj.position = position
                position += 1
                group.append(obj)
    report.objects = position
    contexts = [Context(objects, params, namespace) for objects in groups.values()]
    _run(active, contexts, report, [name for name, _ in inputs])
    _locate_fixes(report, inputs, origins)
    return report


def _locate_fixes(report: Report, inputs, origins: dict[tuple, Any]) -> None:
    """Turn each finding's JSON Patch into line edits of its input (for SARIF `fixes` and
    `kbcheck --fix-diff`); a patch that cannot be placed keeps no edits."""
    from incidents.rules.fixdiff import finding_edits

    texts: dict[int, str] = {}
    index_of = {name: i for i, (name, _) in enumerate(inputs)}
    for n, finding in enumerate(report.findings):
        if not finding.patch:
            continue
        i = index_of.get(finding.file, 0)
        document = origins.get((i, finding.document))
        if document is None:
            continue
        if i not in texts:
            data = inputs[i][1]
            texts[i] = data.decode("utf-8-sig", "replace") if isinstance(data, bytes) else data
        edits = finding_edits(texts[i], document, finding)
        if edits:
            report.findings[n] = dataclasses.replace(finding, edits=edits)


def _named(error: InputError, name: str | None) -> InputError:
    if not name:
        return error
    return InputError(error.document, error.line, error.message, error.code, name)


def _active_rules(rules: Sequence[Rule], skip: Iterable[str]) -> list[Rule]:
    if isinstance(skip, str):
        skip = [skip]
    skipped = set()
    by_key = {}
    for rule in rules:
        by_key[rule.id.upper()] = rule.id
        by_key[rule.slug] = rule.id
    for item in skip:
        for key in str(item).split(","):
            key = key.strip()
            if not key:
                continue
            rule_id = by_key.get(key.upper()) or by_key.get(key.lower())
            if rule_id is None:
                raise UsageError(f"--skip: unknown rule {key!r}")
            skipped.add(rule_id)
    return [r for r in rules if r.id not in skipped]


def _checked_params(params: dict[str, str], rules: Sequence[Rule]) -> dict[str, str]:
    known = {p.name: p for rule in rules for p in rule.params}
    unknown = sorted(set(params) - known.keys())
    if unknown:
        names = ", ".join(sorted(known)) or "none"
        raise UsageError(f"unknown parameter(s) {', '.join(unknown)} (known: {names})")
    merged = {name: p.default for name, p in known.items() if p.default is not None}
    merged.update({k: str(v) for k, v in params.items()})
    for name, value in merged.items():
        validate = known[name].validate
        if validate is not None:
            try:
                validate(value)
            except ValueError as exc:
                raise UsageError(f"parameter {name}={value!r}: {exc}") from None
    return merged


def _objects(data: Any, document: int) -> list[K8sObject]:
    """The Kubernetes objects of one document: itself, or the items of a `kind: List`."""
    if not isinstance(data, dict):
        return []
    kind = data.get("kind")
    if not isinstance(kind, str) or not kind:
        return []
    items = data.get("items")
    if kind.endswith("List") and isinstance(items, list):
        return [
            K8sObject(item, document, prefix=f"items[{i}]")
            for i, item in enumerate(as_list(items))
            if isinstance(item, dict) and isinstance(item.get("kind"), str) and item["kind"]
        ]
    return [K8sObject(data, document)]


def suppressed_rules(obj: K8sObject) -> tuple[set[str], str]:
    """Rule IDs or slugs the object's `kb.k8s.af/ignore` annotation lists, and the reason."""
    value = obj.annotations.get(IGNORE_ANNOTATION)
    if not isinstance(value, str) or not value.strip():
        return set(), ""
    names, _, reason = value.partition(":")
    keys = {n.strip() for n in names.replace(";", ",").split(",") if n.strip()}
    return {k.upper() for k in keys} | {k.lower() for k in keys}, reason.strip()


def _run(
    rules: list[Rule],
    contexts: list[Context],
    report: Report,
    names: list[str | None],
) -> None:
    by_kind: dict[str, list[Rule]] = {}
    input_rules = []
    for rule in rules:
        if rule.check_input is not None:
            input_rules.append(rule)
        else:
            for kind in rule.kinds:
                by_kind.setdefault(kind, []).append(rule)
    raw: list[tuple[K8sObject, Rule, str, str, tuple]] = []
    for context in contexts:
        for obj in context.objects:
            applicable = by_kind.get(obj.kind)
            if not applicable:
                continue
            for rule in applicable:
                try:
                    hits: Iterable[Hit] = rule.check(obj, context) or ()
                    raw.extend((obj, rule, hit.path, hit.message, hit.patch) for hit in hits)
                except Exception as exc:  # a rule bug must not hide the other findings
                    report.errors.append(_rule_failed(rule, obj, exc, names))
        for rule in input_rules:
            try:
                hits = list(rule.check_input(context) or ())
            except Exception as exc:
                report.errors.append(_rule_failed(rule, None, exc, names))
                continue
            raw.extend(
                (hit.obj, rule, hit.path, hit.message, hit.patch) for hit in hits if hit.obj.kind
            )
    raw.sort(key=lambda r: (r[0].position, r[1].id, r[2]))
    suppression: dict[int, set[str]] = {}
    for obj, rule, path, message, patch in raw:
        ignored = suppression.get(obj.position)
        if ignored is None:
            ignored = suppression[obj.position] = suppressed_rules(obj)[0]
        if ignored and (rule.id in ignored or rule.slug in ignored):
            report.suppressed += 1
            continue
        full_path = f"{obj.prefix}.{path}" if obj.prefix and path else (obj.prefix or path)
        report.findings.append(
            Finding(
                rule=rule,
                object=obj.ref(),
                path=path,
                message=message,
                document=obj.document,
                line=obj.origin.line_of(full_path) if obj.origin is not None else None,
                source=obj.source,
                file=names[obj.input_index],
                patch=patch,
                prefix=obj.prefix,
            )
        )


def _rule_failed(
    rule: Rule, obj: K8sObject | None, exc: Exception, names: list[str | None]
) -> InputError:
    where = f" on {obj.display()}" if obj is not None else ""
    return InputError(
        obj.document if obj is not None else None,
        obj.origin.line if obj is not None and obj.origin is not None else None,
        f"rule {rule.id} failed{where}: {type(exc).__name__}: {exc}",
        "rule-failed",
        names[obj.input_index] if obj is not None else None,
    )

"""Write the runtime rules as a Prometheus rule file or a PrometheusRule manifest."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from incidents.rules.base import RuntimeRule

GROUP = "kb.k8s.af"


class _Literal(str):
    """A string written as a YAML literal block (multi-line PromQL stays readable)."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    _Literal, lambda d, v: d.represent_scalar("tag:yaml.org,2002:str", v, style="|")
)


def alerting_rule(rule: RuntimeRule, *, base_url: str | None = None) -> dict[str, Any]:
    annotations = dict(rule.annotations)
    annotations.setdefault("summary", rule.title)
    if base_url:
        annotations["runbook_url"] = f"{base_url.rstrip('/')}/rules/{rule.id}/"
    expr = rule.expr.strip()
    return {
        "alert": rule.alert_name,
        "expr": _Literal(expr + "\n") if "\n" in expr else expr,
        "for": rule.for_,
        "labels": {"severity": rule.severity.label, "kb_rule": rule.id, **rule.labels},
        "annotations": annotations,
    }


def rule_groups(
    rules: Iterable[RuntimeRule] | None = None, *, base_url: str | None = None
) -> dict[str, Any]:
    """`{"groups": [...]}`: the rule-file format Prometheus and promtool read."""
    if rules is None:
        from incidents.rules.registry import REGISTRY

        rules = REGISTRY.runtime_rules()
    return {
        "groups": [{"name": GROUP, "rules": [alerting_rule(r, base_url=base_url) for r in rules]}]
    }


def export_rule_file(rules: Iterable[RuntimeRule] | None = None, **kwargs: Any) -> str:
    return yaml.dump(rule_groups(rules, **kwargs), Dumper=_Dumper, sort_keys=False, width=100)


def export_prometheus_rule(
    rules: Iterable[RuntimeRule] | None = None,
    *,
    name: str = "kb-k8s-af",
    namespace: str | None = "monitoring",
    labels: Mapping[str, str] | None = None,
    base_url: str | None = None,
) -> str:
    """A `monitoring.coreos.com/v1` PrometheusRule manifest (Prometheus Operator)."""
    metadata: dict[str, Any] = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    metadata["labels"] = {"app.kubernetes.io/name": "kb-k8s-af", **(labels or {})}
    manifest = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": metadata,
        "spec": rule_groups(rules, base_url=base_url),
    }
    return yaml.dump(manifest, Dumper=_Dumper, sort_keys=False, width=100)

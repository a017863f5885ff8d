"""Runtime rules: Prometheus alerts for what manifests cannot show, and their export."""

from incidents.rules.runtime.export import (
    export_prometheus_rule,
    export_rule_file,
    rule_groups,
)
from incidents.rules.runtime.rules import RUNTIME_RULES

__all__ = ["RUNTIME_RULES", "export_prometheus_rule", "export_rule_file", "rule_groups"]

"""Runtime rules: Prometheus alerts for what manifests cannot show. Filled in by rules.py."""

from incidents.rules.runtime.rules import RUNTIME_RULES

__all__ = ["RUNTIME_RULES"]

"""The rule library: manifest checks and runtime alerts linked to the failure stories.

Plain Python, no Django: `registry.REGISTRY` holds every rule, `engine.check_text()` runs the
manifest rules over YAML/JSON input, `formats.render()` prints a report as text, JSON or SARIF,
`runtime.export_prometheus_rule()` writes the runtime rules as a PrometheusRule manifest.
"""

"""KB028: an Ingress pointing at a Service the input does not define."""

from incidents.rules.base import ObjectHit, Rule, Severity
from incidents.rules.objects import ingress_backends
from incidents.rules.relations import made_by_operator


def check_input(ctx):
    services = ctx.of_kind("Service")
    if not services:
        return  # the Services are defined elsewhere
    namespaces = {ctx.ns(s.namespace) for s in services}
    for ingress in ctx.of_kind("Ingress"):
        if ctx.ns(ingress.namespace) not in namespaces:
            continue  # no Service of this namespace in the application
        operators = ctx.custom_resources(ingress.namespace)
        for name, path in ingress_backends(ingress):
            if ctx.named("Service", name, ingress.namespace):
                continue
            if not made_by_operator(name, operators):
                yield ObjectHit(
                    ingress,
                    path,
                    f"backend Service {name} is not in this input: requests to this route "
                    "will fail",
                )


RULE = Rule(
    id="KB028",
    slug="ingress-missing-service",
    title="Ingress pointing at a missing Service",
    severity=Severity.ERROR,
    kinds=("Ingress",),
    checks="Ingress backends naming a Service that the input does not define in the same "
    "namespace (checked only when the input defines Services there).",
    why="An Ingress rule to a missing Service is accepted by the API server; the controller "
    "answers 503 for the route, or, depending on the controller, drops or reloads its whole "
    "configuration. Renames and templating mistakes that remove a Service surface only as "
    "user-facing errors.",
    fix="Keep the Ingress and its Services in one release, check them together, and alert on "
    "ingress 5xx rates per route.",
    fix_example="""kind: Ingress
spec:
  rules:
  - host: www.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: web    # a Service named web exists in this namespace
            port: {name: http}
""",
    references=("https://kubernetes.io/docs/concepts/services-networking/ingress/",),
    check_input=check_input,
)

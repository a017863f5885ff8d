"""KB024: cluster dashboards exposed through a public LoadBalancer or an Ingress without auth."""

from incidents.rules.base import ObjectHit, Rule, Severity
from incidents.rules.objects import containers, image_parts, ingress_backends

DASHBOARDS = (
    "weaveworks/scope",
    "weave-scope",
    "kubernetesui/dashboard",
    "kubernetes-dashboard",
    "kube-ops-view",
    "headlamp",
    "portainer",
    "octant",
)
INTERNAL = ("internal", "load-balancer-type")
AUTH = ("auth-url", "auth-type", "auth-signin", "whitelist-source-range", "allowlist-source-range")


def _is_dashboard_name(name: str) -> bool:
    return any(d.split("/")[-1] in name for d in DASHBOARDS)


def _is_dashboard(service, ctx) -> bool:
    if _is_dashboard_name(service.name):
        return True
    for workload in ctx.pods_selected_by(service.spec.get("selector"), service.namespace):
        for container, _ in containers(workload):
            repository = image_parts(container.get("image"))[0]
            if any(d in repository for d in DASHBOARDS):
                return True
    return False


def _public_lb(service) -> bool:
    if service.spec.get("type") != "LoadBalancer" or service.spec.get("loadBalancerSourceRanges"):
        return False
    return not any(
        any(word in key for word in INTERNAL) and str(value).lower() not in ("false", "external")
        for key, value in service.annotations.items()
    )


def check_input(ctx):
    services = ctx.of_kind("Service")
    for service in services:
        if _public_lb(service) and _is_dashboard(service, ctx):
            yield ObjectHit(
                service,
                "spec.type",
                f"dashboard Service {service.name} is a LoadBalancer open to any source: "
                "anyone who finds the address can use the dashboard",
            )
    for ingress in ctx.of_kind("Ingress"):
        if any(any(a in key for a in AUTH) for key in ingress.annotations):
            continue
        for name, path in ingress_backends(ingress):
            matches = ctx.named("Service", name, ingress.namespace)
            if (matches and _is_dashboard(matches[0], ctx)) or (
                not matches and _is_dashboard_name(name)
            ):
                yield ObjectHit(
                    ingress,
                    path,
                    f"Ingress routes to dashboard Service {name} without an authentication "
                    "annotation",
                )


RULE = Rule(
    id="KB024",
    slug="dashboard-exposed",
    title="Cluster dashboard exposed without authentication",
    severity=Severity.ERROR,
    kinds=("Service", "Ingress"),
    checks="Services of `type: LoadBalancer` without `loadBalancerSourceRanges` or an internal "
    "load-balancer annotation, and Ingresses without an auth annotation, that lead to a "
    "cluster dashboard (Weave Scope, Kubernetes Dashboard, kube-ops-view, Headlamp, Portainer, "
    "Octant), recognised by the selected pods' images or the Service name.",
    why="Cluster dashboards show everything and often act on it: Weave Scope can open a shell "
    "in any container, including its own privileged node agent. Crawlers find public load "
    "balancers within hours; one exposed Scope was enough to run a crypto miner on every node "
    "of a cluster.",
    fix="Keep dashboards internal: a ClusterIP Service reached with `kubectl port-forward`, an "
    "internal load balancer with source ranges, or an Ingress behind an authenticating proxy.",
    fix_example="""apiVersion: v1
kind: Service
metadata:
  name: weave-scope-app
spec:
  type: ClusterIP   # reach it with: kubectl port-forward svc/weave-scope-app 4040:80
  selector:
    app: weave-scope
  ports:
  - port: 80
    targetPort: 4040
""",
    references=(
        "https://kubernetes.io/docs/concepts/security/security-checklist/",
        "https://kubernetes.io/docs/tasks/access-application-cluster/create-external-load-balancer/",
    ),
    check_input=check_input,
)

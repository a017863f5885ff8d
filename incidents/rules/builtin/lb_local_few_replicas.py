"""KB011: a LoadBalancer with externalTrafficPolicy: Local in front of too few pods."""

from incidents.rules.base import Hit, Param, Rule, Severity


def check(obj, ctx):
    spec = obj.spec
    if spec.get("type") != "LoadBalancer" or spec.get("externalTrafficPolicy") != "Local":
        return
    backends = ctx.pods_selected_by(spec.get("selector"), obj.namespace)
    if not backends or any(b.kind == "DaemonSet" for b in backends):
        return  # nothing to judge in this input, or one pod per node anyway
    counts = [ctx.replicas(b) for b in backends]
    if any(c is None for c in counts):
        return
    minimum = int(ctx.param("lb-local-min-replicas") or 3)
    total = sum(counts)
    if total < minimum:
        yield Hit(
            "spec.externalTrafficPolicy",
            f"externalTrafficPolicy: Local sends load-balancer traffic only to nodes that run "
            f"one of the {total} backend pod(s) ({', '.join(b.name for b in backends)}); "
            "draining those nodes leaves the load balancer with no healthy node",
        )


RULE = Rule(
    id="KB011",
    slug="lb-local-traffic-few-replicas",
    title="LoadBalancer with externalTrafficPolicy: Local in front of too few pods",
    severity=Severity.WARNING,
    kinds=("Service",),
    checks="`type: LoadBalancer` Services with `externalTrafficPolicy: Local` whose selected "
    "Deployments or StatefulSets in the same input run fewer replicas in total than "
    "`lb-local-min-replicas` (default 3). DaemonSet backends are fine.",
    why="With `Local`, the cloud load balancer's health check passes only on nodes that host a "
    "backend pod. Drain or upgrade those few nodes (new node pool, autoscaler scale-down) and "
    "the load balancer has no healthy target at all: a total ingress outage, even though "
    "replacement pods may be starting elsewhere.",
    fix="Run the ingress controller as a DaemonSet or with enough replicas spread over nodes "
    "(and a PDB that lets them move), or use `externalTrafficPolicy: Cluster` when you do not "
    "need the client source IP. Before draining a pool, move the ingress pods first.",
    fix_example="""apiVersion: v1
kind: Service
metadata:
  name: ingress-nginx
spec:
  type: LoadBalancer
  externalTrafficPolicy: Cluster   # or keep Local with a DaemonSet controller
  selector:
    app.kubernetes.io/name: ingress-nginx
  ports:
  - {name: https, port: 443, targetPort: https}
""",
    references=(
        "https://kubernetes.io/docs/tasks/access-application-cluster/create-external-load-balancer/#preserving-the-client-source-ip",
        "https://kubernetes.io/docs/reference/networking/virtual-ips/#external-traffic-policy",
    ),
    params=(
        Param(
            "lb-local-min-replicas",
            "Fewest backend replicas acceptable behind an externalTrafficPolicy: Local "
            "LoadBalancer",
            "3",
        ),
    ),
    check=check,
)

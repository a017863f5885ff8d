"""KB012: admission webhooks that fail closed on what keeps the cluster running."""

from incidents.rules.admission import (
    CLUSTER_CRITICAL,
    excludes_kube_system,
    intercepted,
    opt_in,
)
from incidents.rules.base import Hit, Rule, Severity
from incidents.rules.objects import as_dict, as_list, as_str


def check(obj, ctx):
    default = "Ignore" if obj.api_version.endswith("v1beta1") else "Fail"
    for i, hook in enumerate(as_list(obj.data.get("webhooks"))):
        hook = as_dict(hook)
        if hook.get("failurePolicy", default) != "Fail" or opt_in(hook.get("objectSelector")):
            continue
        found = intercepted(hook)
        critical = sorted(r for _, r in found & CLUSTER_CRITICAL)
        system = sorted(r for _, r in found)
        if not excludes_kube_system(hook.get("namespaceSelector")) and system:
            what = f"{', '.join(system)} in every namespace, kube-system included"
        elif critical and not opt_in(hook.get("namespaceSelector")):
            what = f"{', '.join(critical)} (node objects and heartbeats)"
        else:
            continue
        yield Hit(
            f"webhooks[{i}]",
            f"webhook {as_str(hook.get('name')) or i} fails closed (failurePolicy: Fail) on "
            f"{what}: when its backend is down, the API server refuses those requests, "
            "including the control plane's own",
        )


RULE = Rule(
    id="KB012",
    slug="webhook-fail-closed-kube-system",
    title="Admission webhook that fails closed for kube-system",
    severity=Severity.ERROR,
    kinds=("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"),
    checks="Webhooks with `failurePolicy: Fail` (the `admissionregistration.k8s.io/v1` "
    "default) whose `rules` intercept what the cluster runs on: nodes or leases (node "
    "heartbeats) unless namespaces opt in, or pods, ConfigMaps, Secrets, endpoints, "
    "Services, ServiceAccounts and controllers when the `namespaceSelector` does not leave "
    "kube-system out. Webhooks on other resources (their own custom resources), or with an "
    "opt-in `objectSelector`, are not reported.",
    why="A webhook that fails closed makes its backend part of the control plane. When the "
    "backend is down (its own pods, its node, a network policy), the API server rejects every "
    "matching request; if that includes kube-system, system components cannot update their "
    "ConfigMaps and leases, upgrades crash-loop and node repair loops can follow.",
    fix="Exclude kube-system (and the webhook's own namespace) with a `namespaceSelector`, "
    "keep `timeoutSeconds` short, and use `failurePolicy: Ignore` for policies that are not "
    "security boundaries. Alert on webhook latency and errors.",
    fix_example="""webhooks:
- name: policy.example.com
  failurePolicy: Fail
  timeoutSeconds: 5
  namespaceSelector:
    matchExpressions:
    - key: kubernetes.io/metadata.name
      operator: NotIn
      values: ["kube-system", "policy-system"]
""",
    references=(
        "https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/#avoiding-operating-on-the-kube-system-namespace",
        "https://kubernetes.io/docs/concepts/cluster-administration/admission-webhooks-good-practices/",
    ),
    check=check,
)

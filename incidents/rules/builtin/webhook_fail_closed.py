"""KB012: admission webhooks that fail closed for kube-system or everything."""

from incidents.rules.base import Hit, Rule, Severity
from incidents.rules.objects import as_dict, as_list, as_str

NAME_KEY = "kubernetes.io/metadata.name"


def excludes_kube_system(selector) -> bool:
    """True when a namespaceSelector opts namespaces in, or explicitly leaves kube-system out."""
    selector = as_dict(selector)
    if as_dict(selector.get("matchLabels")):
        return True  # opt-in: only labelled namespaces
    for expr in as_list(selector.get("matchExpressions")):
        expr = as_dict(expr)
        operator = expr.get("operator")
        values = {as_str(v) for v in as_list(expr.get("values"))}
        if operator in ("In", "Exists", "DoesNotExist"):
            return True  # opt-in, or an opt-out label kube-system is expected to carry
        if operator == "NotIn" and (expr.get("key") != NAME_KEY or "kube-system" in values):
            return True  # names kube-system, or an opt-out label it may carry
    return False


def check(obj, ctx):
    default = "Ignore" if obj.api_version.endswith("v1beta1") else "Fail"
    for i, hook in enumerate(as_list(obj.data.get("webhooks"))):
        hook = as_dict(hook)
        if hook.get("failurePolicy", default) != "Fail":
            continue
        if excludes_kube_system(hook.get("namespaceSelector")):
            continue
        yield Hit(
            f"webhooks[{i}].namespaceSelector",
            f"webhook {as_str(hook.get('name')) or i} fails closed (failurePolicy: Fail) and "
            "applies to every namespace, kube-system included: when its backend is down, the "
            "API server refuses those requests, including the control plane's own",
        )


RULE = Rule(
    id="KB012",
    slug="webhook-fail-closed-kube-system",
    title="Admission webhook that fails closed for kube-system",
    severity=Severity.ERROR,
    kinds=("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"),
    checks="Webhooks with `failurePolicy: Fail` (the `admissionregistration.k8s.io/v1` "
    "default) whose `namespaceSelector` does not leave out kube-system.",
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
    stories=("jetstack-admission-webhook-outage",),
    check=check,
)

"""KB039: RBAC grants that can take over or take down the whole cluster."""

from incidents.rules.base import Hit, Rule, Severity
from incidents.rules.objects import as_dict, as_list, as_str

_KINDS = ("validating", "mutating")
WEBHOOKS = {("admissionregistration.k8s.io", f"{k}webhookconfigurations") for k in _KINDS}
WEBHOOKS |= {("admissionregistration.k8s.io", f"{k}admissionpolicies") for k in _KINDS}
WEBHOOKS |= {("admissionregistration.k8s.io", f"{k}admissionpolicybindings") for k in _KINDS}
ROLES = {("rbac.authorization.k8s.io", "roles"), ("rbac.authorization.k8s.io", "clusterroles")}
IDENTITIES = {("", "users"), ("", "groups"), ("", "serviceaccounts")}
IDENTITIES |= {("authentication.k8s.io", "userextras/*"), ("authentication.k8s.io", "uids")}
WRITE = {"create", "update", "patch", "delete", "deletecollection"}


def built_in(obj) -> bool:
    """Roles the API server makes and reconciles at start-up (`cluster-admin`, `system:*`),
    and aggregated ClusterRoles whose rules a controller fills from other roles (checked there).
    Who is bound to them is what matters; KB025 checks bindings to cluster-admin."""
    name = obj.name
    return name == "cluster-admin" or name.startswith("system:") or "aggregationRule" in obj.data


def grants(rule: dict, verbs: set[str], targets: set[tuple[str, str]]) -> bool:
    """Whether a PolicyRule allows one of `verbs` on one of `targets` (wildcards included)."""
    groups = {as_str(g) for g in as_list(rule.get("apiGroups"))}
    resources = {as_str(r) for r in as_list(rule.get("resources"))}
    allowed = {as_str(v) for v in as_list(rule.get("verbs"))}
    if not ("*" in allowed or allowed & verbs):
        return False
    return any(
        ("*" in groups or group in groups) and ("*" in resources or resource in resources)
        for group, resource in targets
    )


def dangers(rule: dict, cluster_wide: bool) -> list[str]:
    """What a PolicyRule hands over, in words; empty when it is not one of the dangerous grants."""
    if all("*" in as_list(rule.get(k)) for k in ("apiGroups", "resources", "verbs")):
        return ["every verb on every resource, which is what cluster-admin has"]
    found = []
    if grants(rule, WRITE, WEBHOOKS):
        found.append(
            "writing admission webhooks or policies, where one that fails closed "
            "blocks every matching API request"
        )
    for verb, targets, what in (
        ("escalate", ROLES, "escalate on roles, granting permissions it does not hold"),
        ("bind", ROLES, "bind on roles, binding itself to any role such as cluster-admin"),
        ("impersonate", IDENTITIES, "impersonate, acting as any user, group or service account"),
    ):
        if grants(rule, {verb}, targets):
            found.append(what)
    if grants(rule, {"get", "list", "watch"}, {("", "secrets")}):
        where = "in every namespace" if cluster_wide else "of kube-system"
        found.append(f"reading all Secrets {where}, every service account token and credential")
    return found


def check(obj, ctx):
    if built_in(obj) or (obj.kind == "Role" and obj.namespace != "kube-system"):
        return
    for i, rule in enumerate(as_list(obj.data.get("rules"))):
        rule = as_dict(rule)
        if as_list(rule.get("resourceNames")):
            continue  # named objects only: no create, no list of everything
        found = dangers(rule, obj.kind == "ClusterRole")
        if found:
            yield Hit(f"rules[{i}]", f"{obj.kind} {obj.name} grants " + "; ".join(found))


RULE = Rule(
    id="KB039",
    slug="rbac-cluster-takeover",
    title="Role that can take over or take down the cluster",
    severity=Severity.WARNING,
    kinds=("ClusterRole", "Role"),
    checks="ClusterRoles (and Roles in kube-system) with a rule that grants, without "
    "`resourceNames`: every verb on every resource (`*`); create, update, patch or delete on "
    "validating or mutating webhook configurations or admission policies; `escalate` or `bind` "
    "on roles; `impersonate`; or get, list or watch on Secrets. Roles the API server makes "
    "(`cluster-admin`, names starting `system:`) and aggregated ClusterRoles are left out.",
    why="Each of these hands the whole cluster to whoever holds the role, and through a "
    "ServiceAccount that is every pod running under it. Reading all Secrets yields every "
    "token and credential; `escalate`, `bind` and `impersonate` grant any permission; a "
    "wildcard grants what exists and every resource added later. Writing webhook "
    "configurations is the outage path: a webhook registered for everything that fails "
    "closed stops the API server from accepting requests, the control plane's own included.",
    fix="Grant only what the workload uses: name the objects with `resourceNames` (a "
    "controller patching its own webhook's `caBundle`, binding one role), use a Role in the "
    "namespace it works in instead of a ClusterRole, and list verbs and resources instead of "
    "`*`. Bind powerful roles to people through groups, not to ServiceAccounts.",
    fix_example="""apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: my-operator
rules:
- apiGroups: ["admissionregistration.k8s.io"]
  resources: ["validatingwebhookconfigurations"]
  resourceNames: ["my-operator-webhook"]   # its own webhook only
  verbs: ["get", "update", "patch"]
""",
    references=(
        "https://kubernetes.io/docs/concepts/security/rbac-good-practices/",
        "https://kubernetes.io/docs/reference/access-authn-authz/rbac/#privilege-escalation-prevention-and-bootstrapping",
        "https://kubernetes.io/docs/reference/access-authn-authz/rbac/#referring-to-resources",
    ),
    check=check,
)

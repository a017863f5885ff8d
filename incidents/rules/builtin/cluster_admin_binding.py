"""KB025: ServiceAccounts and broad groups bound to cluster-admin."""

from incidents.rules.base import Hit, Rule, Severity
from incidents.rules.objects import as_dict, as_list, as_str

BROAD_GROUPS = ("system:serviceaccounts", "system:authenticated", "system:unauthenticated")


def check(obj, ctx):
    role = as_dict(obj.data.get("roleRef"))
    if role.get("kind") != "ClusterRole" or role.get("name") != "cluster-admin":
        return
    for i, subject in enumerate(as_list(obj.data.get("subjects"))):
        subject = as_dict(subject)
        kind, name = subject.get("kind"), as_str(subject.get("name"))
        broad = kind == "Group" and name.startswith(BROAD_GROUPS)
        if kind == "ServiceAccount" or broad or name == "system:anonymous":
            what = f"ServiceAccount {as_str(subject.get('namespace'))}/{name}".replace(" /", " ")
            yield Hit(
                f"subjects[{i}]",
                f"{what if kind == 'ServiceAccount' else f'{kind} {name}'} is bound to "
                "cluster-admin: a token stolen from any pod using it controls the cluster",
            )


RULE = Rule(
    id="KB025",
    slug="cluster-admin-binding",
    title="ServiceAccount or broad group bound to cluster-admin",
    severity=Severity.ERROR,
    kinds=("ClusterRoleBinding", "RoleBinding"),
    checks="Bindings to the `cluster-admin` ClusterRole whose subjects include a "
    "ServiceAccount, the `system:serviceaccounts*`, `system:authenticated` or "
    "`system:unauthenticated` groups, or `system:anonymous`.",
    why="Every pod of a ServiceAccount gets its token. Whoever runs code in one such pod (an "
    "exposed dashboard, a vulnerable web app, a compromised image) can create privileged pods "
    "anywhere, read every Secret and hide their tracks.",
    fix="Write a Role or ClusterRole with the verbs and resources the workload needs and bind "
    "that; set `automountServiceAccountToken: false` where the API is not used.",
    fix_example="""apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: scope-reader
rules:
- apiGroups: ["", "apps"]
  resources: ["pods", "services", "deployments", "nodes"]
  verbs: ["get", "list", "watch"]
""",
    references=(
        "https://kubernetes.io/docs/concepts/security/rbac-good-practices/",
        "https://kubernetes.io/docs/reference/access-authn-authz/rbac/#user-facing-roles",
    ),
    check=check,
)

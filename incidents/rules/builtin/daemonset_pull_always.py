"""KB020: DaemonSets that pull their image on every pod start."""

from incidents.rules.base import Hit, Rule, Severity
from incidents.rules.objects import containers, image_parts, is_placeholder_image, set_field


def check(obj, ctx):
    for container, path in containers(obj, init=True):
        policy = container.get("imagePullPolicy")
        if policy is None and is_placeholder_image(container.get("image")):
            continue  # `<image_url>`: the tag, and so the implied policy, is not known yet
        _, tag, digest = image_parts(container.get("image"))
        implied = policy is None and not digest and tag in ("", "latest")
        if policy == "Always" or implied:
            how = "imagePullPolicy: Always" if policy else "the latest tag implies Always"
            yield Hit(
                f"{path}.imagePullPolicy",
                f"DaemonSet container {container.get('name', '?')!s} pulls its image on every "
                f"start ({how}): a rollout or node churn pulls it on every node at once",
                set_field(f"{path}.imagePullPolicy", "IfNotPresent", policy is not None),
            )


RULE = Rule(
    id="KB020",
    slug="daemonset-image-pull-always",
    title="DaemonSet with imagePullPolicy: Always",
    severity=Severity.WARNING,
    kinds=("DaemonSet",),
    checks="DaemonSet containers with `imagePullPolicy: Always`, or with no policy and a "
    "`latest` or missing tag (which implies Always).",
    why="A DaemonSet runs on every node. `Always` makes each restart and rollout pull from the "
    "registry on all nodes at the same time: registry rate limits, NAT gateway and egress "
    "saturation, and node agents (log shippers, CNI, monitoring) that cannot start while the "
    "registry is slow or down.\n\n"
    'This disagrees with checkov on purpose: its CKV_K8S_15 ("Image Pull Policy should be '
    'Always") asks for `Always` so a moved tag is always pulled again. For a DaemonSet that '
    "trades a security nicety for an availability risk on every node: Datadog lists "
    "`imagePullPolicy: Always` with `latest` on a DaemonSet, behind NAT instances, among the "
    "ways it took its own clusters down. A tag that cannot move (a version or a digest) gives "
    "the same guarantee without the pull; admission control can enforce both.",
    fix="Pin the image by version or digest and use `imagePullPolicy: IfNotPresent`.",
    fix_example="""containers:
- name: agent
  image: registry.example.com/node-agent:7.2.1
  imagePullPolicy: IfNotPresent
""",
    references=("https://kubernetes.io/docs/concepts/containers/images/#image-pull-policy",),
    check=check,
)

"""KB019: images without a fixed tag."""

from incidents.rules.base import Hit, Rule, Severity
from incidents.rules.objects import (
    WORKLOAD_KINDS,
    containers,
    image_parts,
    is_placeholder_image,
)


def check(obj, ctx):
    for container, path in containers(obj, init=True):
        image = container.get("image")
        repository, tag, digest = image_parts(image)
        if not repository or digest or is_placeholder_image(image):
            continue  # no image, pinned, or a placeholder a script fills in (`{IMAGE}`)
        if not tag or tag == "latest":
            yield Hit(
                f"{path}.image",
                f"image {image} has {'the latest tag' if tag else 'no tag'}: which code runs "
                "depends on when each node pulled it",
            )


RULE = Rule(
    id="KB019",
    slug="image-latest-tag",
    title="Image without a fixed tag",
    severity=Severity.WARNING,
    kinds=WORKLOAD_KINDS,
    checks="Container images with no tag or the `latest` tag and no `@sha256:` digest "
    "(placeholders such as `{IMAGE}` or `${TAG}`, filled in by a script, are not images yet).",
    why="`latest` moves. Pods of the same ReplicaSet run different code depending on when "
    "their node pulled the image, a rollback does not roll anything back, and the implied "
    "`imagePullPolicy: Always` makes every pod start depend on the registry.",
    fix="Reference images by an immutable version tag, or better by digest, and let CI update it.",
    fix_example="""containers:
- name: app
  image: registry.example.com/web:1.14.2   # or pin a digest: web@sha256:...
  imagePullPolicy: IfNotPresent
""",
    references=(
        "https://kubernetes.io/docs/concepts/containers/images/#image-names",
        "https://kubernetes.io/docs/concepts/configuration/overview/#container-images",
    ),
    check=check,
)

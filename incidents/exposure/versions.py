"""Version strings as clusters report them, parsed well enough to compare.

Real strings carry platform and distribution suffixes that a semantic-version parser rejects:
`v1.27.3-eks-2d98532`, `1.29.1-gke.1589000`, `5.10.186-179.751.amzn2.x86_64`,
`5.15.0-1041-azure`, `containerd://1.6.19`, `v1.8.7-eksbuild.3`, `4.19.112+`. We keep the
numeric release (major.minor.patch) for ordering and the rest as `suffix`.

Distribution kernels are the trap: Ubuntu's `5.15.0-1041-azure` and Debian's `6.1.0-13-amd64`
keep the upstream patch level at 0 and carry hundreds of stable fixes in their own build number,
and RHEL's `4.18.0-372.9.1.el8` backports whole subsystems. For those only major.minor says
anything about an upstream fix; `Version.distribution` tells the caller so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_VERSION = re.compile(r"v?(\d{1,6})\.(\d{1,6})(?:\.(\d{1,9}))?([^\s]*)")
_DISTRIBUTION_SUFFIX = re.compile(r"^-\d+-|\.el\d")


@dataclass(frozen=True, slots=True, order=False)
class Version:
    """A release number plus whatever followed it; `runtime` is `containerd` in `containerd://1.6`."""

    major: int
    minor: int
    patch: int = 0
    suffix: str = ""
    runtime: str = ""
    raw: str = ""

    @property
    def release(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)

    @property
    def minor_release(self) -> tuple[int, int]:
        return (self.major, self.minor)

    @property
    def distribution(self) -> bool:
        """A distribution kernel whose patch level does not follow upstream stable releases."""
        return bool(self.suffix) and bool(_DISTRIBUTION_SUFFIX.search(self.suffix))

    def __str__(self) -> str:
        return self.raw or f"{self.major}.{self.minor}.{self.patch}{self.suffix}"

    def __lt__(self, other: Version) -> bool:
        return self.release < other.release

    def __le__(self, other: Version) -> bool:
        return self.release <= other.release

    def __gt__(self, other: Version) -> bool:
        return self.release > other.release

    def __ge__(self, other: Version) -> bool:
        return self.release >= other.release


def parse_version(text: object) -> Version | None:
    """Parse a reported version; None when there is no `major.minor` in it."""
    if not isinstance(text, str):
        return None
    raw = text.strip()[:200]
    runtime = ""
    body = raw
    if "://" in body:
        runtime, _, body = body.partition("://")
    match = _VERSION.search(body)
    if not match:
        return None
    major, minor, patch, suffix = match.groups()
    return Version(
        int(major),
        int(minor),
        int(patch or 0),
        suffix or "",
        runtime.lower(),
        raw,
    )


@dataclass(frozen=True, slots=True)
class Range:
    """`>=1.24`, `<5.4`, `>=1.6,<1.9`: every bound must hold. An empty range holds for all."""

    bounds: tuple[tuple[str, tuple[int, int, int]], ...] = ()
    text: str = ""

    def __contains__(self, version: Version) -> bool:
        for op, bound in self.bounds:
            value = version.release
            if not _OPS[op](value, bound):
                return False
        return True


_OPS = {
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    "<": lambda a, b: a < b,
    "==": lambda a, b: a == b,
}
_BOUND = re.compile(r"^\s*(>=|<=|==|>|<)\s*v?(\d+)\.(\d+)(?:\.(\d+))?\s*$")


def parse_range(text: str) -> Range:
    """Parse a comma-separated list of bounds; raises ValueError on anything else."""
    bounds = []
    for part in (text or "").split(","):
        if not part.strip():
            continue
        match = _BOUND.match(part)
        if not match:
            raise ValueError(f"{part.strip()!r} is not a version bound such as >=1.24 or <5.4.0")
        op, major, minor, patch = match.groups()
        bounds.append((op, (int(major), int(minor), int(patch or 0))))
    return Range(tuple(bounds), (text or "").strip())


def fixed_by(version: Version, fixed_in: tuple[Version, ...]) -> bool | None:
    """Does `version` carry a fix released in `fixed_in` (one entry per stable branch)?

    True: at or above the newest (mainline) fix, or at or above the fix of its own branch.
    False: below the fix of its own branch, or below every fix with no branch of its own and
    an upstream patch level we can trust. None: a distribution build below the mainline fix,
    or a branch with no recorded backport: the version alone cannot tell.
    """
    if not fixed_in:
        return None
    mainline = max(fixed_in, key=lambda v: v.release)
    if version >= mainline:
        return True
    if version.distribution:
        return None
    for fix in fixed_in:
        if fix.minor_release == version.minor_release:
            return version >= fix
    return None

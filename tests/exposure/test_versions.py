"""Version strings as each major platform reports them."""

from __future__ import annotations

import pytest

from incidents.exposure.versions import fixed_by, parse_range, parse_version


@pytest.mark.parametrize(
    ("text", "release", "runtime", "distribution"),
    [
        # Kubernetes: EKS, GKE, AKS, upstream, k3s, OpenShift
        ("v1.27.3-eks-2d98532", (1, 27, 3), "", False),
        ("1.29.1-gke.1589000", (1, 29, 1), "", False),
        ("v1.28.3", (1, 28, 3), "", False),
        ("v1.26.6+k3s1", (1, 26, 6), "", False),
        ("v1.27.10+c4d3b3b", (1, 27, 10), "", False),
        # Kernels: Amazon Linux 2 and 2023, Container-Optimized OS, Ubuntu (AKS, EKS), Debian, RHEL
        ("5.10.186-179.751.amzn2.x86_64", (5, 10, 186), "", False),
        ("6.1.61-85.141.amzn2023.x86_64", (6, 1, 61), "", False),
        ("5.15.133+", (5, 15, 133), "", False),
        ("5.15.0-1041-azure", (5, 15, 0), "", True),
        ("5.4.0-1103-aws", (5, 4, 0), "", True),
        ("6.1.0-13-cloud-amd64", (6, 1, 0), "", True),
        ("4.18.0-372.9.1.el8.x86_64", (4, 18, 0), "", True),
        # Container runtimes and component images
        ("containerd://1.6.19", (1, 6, 19), "containerd", False),
        ("containerd://1.7.2-0ubuntu1~22.04.1", (1, 7, 2), "containerd", False),
        ("cri-o://1.27.1", (1, 27, 1), "cri-o", False),
        ("docker://20.10.25", (20, 10, 25), "docker", False),
        ("v1.8.7-eksbuild.3", (1, 8, 7), "", False),
        ("v1.25.6-minimal-eksbuild.1", (1, 25, 6), "", False),
    ],
)
def test_it_parses_real_version_strings(text, release, runtime, distribution):
    version = parse_version(text)
    assert version is not None
    assert version.release == release
    assert version.runtime == runtime
    assert version.distribution is distribution
    assert str(version) == text


@pytest.mark.parametrize("text", ["", "latest", "Container-Optimized OS", None, 3])
def test_it_returns_none_without_a_version(text):
    assert parse_version(text) is None


def test_ranges_hold_every_bound():
    between = parse_range(">=1.6,<1.9")
    assert parse_version("v1.6.0") in between
    assert parse_version("1.8.15-gke.1") in between
    assert parse_version("v1.9.0") not in between
    assert parse_version("v1.5.9") not in between
    assert parse_version("v1.99.0") in parse_range("")


def test_a_bad_range_is_refused_with_the_part_named():
    with pytest.raises(ValueError, match=r"'~1\.2'"):
        parse_range(">=1.0, ~1.2")


def test_fixed_by_reads_stable_backports_and_distribution_builds():
    fixes = (parse_version("4.19.84"), parse_version("5.4"))
    assert fixed_by(parse_version("5.10.186-179.751.amzn2.x86_64"), fixes) is True
    assert fixed_by(parse_version("4.19.84"), fixes) is True
    assert fixed_by(parse_version("4.19.83"), fixes) is False
    # 4.14 has no recorded backport: the version alone cannot tell.
    assert fixed_by(parse_version("4.14.314-237.533.amzn2.x86_64"), fixes) is None
    # Ubuntu's 4.15.0-xx keeps the upstream patch level at 0: its build number hides backports.
    assert fixed_by(parse_version("4.15.0-1054-aws"), fixes) is None
    # A distribution build at or above the mainline fix has it.
    assert fixed_by(parse_version("5.15.0-1041-azure"), fixes) is True

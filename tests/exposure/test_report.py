"""The whole report on the synthetic EKS snapshot in tests/fixtures/cluster-snapshot/."""

from __future__ import annotations

import json
from pathlib import Path

from incidents.exposure.assess import EXPOSED, NOT_APPLICABLE, UNKNOWN, assess
from incidents.exposure.formats import render
from incidents.exposure.snapshot import load_snapshot

SNAPSHOT = Path(__file__).resolve().parents[1] / "fixtures" / "cluster-snapshot"


def snapshot_files():
    return [(p.name, p.read_bytes()) for p in sorted(SNAPSHOT.glob("*.json"))]


def statuses(report):
    return {v.exposure.slug: v for v in report.verdicts}


def test_it_reads_the_snapshot_the_script_collects():
    snapshot = load_snapshot(snapshot_files())
    assert snapshot.server_version.raw == "v1.27.7-eks-4f4795d"
    assert len(snapshot.nodes) == 5
    assert snapshot.errors == []
    assert {s.version_text for s in snapshot.sightings("container-runtime")} == {
        "containerd://1.6.19",
        "containerd://1.6.12",
    }
    assert [s.version.release for s in snapshot.sightings("coredns")] == [(1, 10, 1)]
    assert snapshot.platforms().keys() == {"aws", "eks"}


def test_stories_whose_conditions_hold_are_exposed_with_the_evidence():
    verdicts = statuses(assess(load_snapshot(snapshot_files())))
    proxy = verdicts["circleci-delays-starting-jobs"]
    assert proxy.status == EXPOSED
    assert "kube-proxy v1.25.6-minimal-eksbuild.1" in proxy.outcomes[0].evidence[0]
    snat = verdicts["mindtickle-eks-missing-packet"]
    assert snat.status == EXPOSED
    assert any("AWS_VPC_K8S_CNI_EXTERNALSNAT 'false'" in e for e in snat.outcomes[1].evidence)
    webhook = verdicts["jetstack-admission-webhook-outage"]
    assert webhook.status == EXPOSED
    assert "policy-controller" in webhook.outcomes[0].evidence[0]


def test_stories_that_do_not_apply_say_why():
    verdicts = statuses(assess(load_snapshot(snapshot_files())))
    gke = verdicts["loveholidays-gke-ip-exhaustion"]
    assert gke.status == NOT_APPLICABLE
    assert gke.outcomes[0].reason == "nodes run on aws, eks"
    monzo = verdicts["monzo-anatomy-of-outage"]
    assert monzo.status == NOT_APPLICABLE
    assert "no linkerd1 container image" in monzo.outcomes[1].reason


def test_a_kernel_without_a_recorded_backport_is_undecided_not_guessed():
    cfs = statuses(assess(load_snapshot(snapshot_files())))["buffer-remove-cpu-limits"]
    assert cfs.status == UNKNOWN
    kernel = cfs.outcomes[0]
    assert kernel.status == UNKNOWN
    assert kernel.evidence == [
        "node ip-10-0-8-12.eu-west-1.compute.internal: 4.14.314-237.533.amzn2.x86_64 "
        "(no fix recorded for this branch)"
    ]


def test_the_same_cluster_on_fixed_kernels_is_not_exposed_to_the_cfs_bug():
    files = []
    for name, content in snapshot_files():
        if name == "nodes.json":
            nodes = json.loads(content)
            nodes["items"] = [n for n in nodes["items"] if "4.14" not in json.dumps(n)]
            content = json.dumps(nodes)
        files.append((name, content))
    cfs = statuses(assess(load_snapshot(files)))["buffer-remove-cpu-limits"]
    assert cfs.status == NOT_APPLICABLE
    assert "5.10.186-179.751.amzn2.x86_64 (outside <5.4)" in cfs.outcomes[0].reason


def test_a_stable_kernel_below_its_branch_fix_is_exposed():
    files = []
    for name, content in snapshot_files():
        if name == "nodes.json":
            content = content.replace(b"4.14.314-237.533.amzn2.x86_64", b"4.19.80")
        files.append((name, content))
    cfs = statuses(assess(load_snapshot(files)))["buffer-remove-cpu-limits"]
    assert cfs.status == EXPOSED
    assert cfs.outcomes[0].evidence == ["node ip-10-0-8-12.eu-west-1.compute.internal: 4.19.80"]


def test_secrets_are_dropped_unread_and_counted():
    secret = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"},
                   "data": {"password": "aHVudGVyMg=="}}],
    }  # fmt: skip
    snapshot = load_snapshot([*snapshot_files(), ("extra.json", json.dumps(secret))])
    assert snapshot.secrets_dropped == 1
    assert all(o["kind"] != "Secret" for o in snapshot.objects)
    assert "aHVudGVyMg" not in render(assess(snapshot), "json")


def test_unreadable_files_become_errors_that_name_the_file():
    snapshot = load_snapshot([("nodes.json", b'{"kind": "List", "items": [')])
    assert snapshot.errors and snapshot.errors[0].file == "nodes.json"


def test_stories_without_conditions_are_listed_as_such():
    report = assess(load_snapshot(snapshot_files()), story_slugs=["reddit-pi-day-outage", "x"])
    assert [v.exposure.slug for v in report.verdicts] == ["reddit-pi-day-outage"]
    assert report.without_conditions == ["x"]


def test_json_and_sarif_carry_the_same_verdicts():
    report = assess(load_snapshot(snapshot_files()))
    data = json.loads(render(report, "json"))
    assert data["summary"]["exposed"] == report.count(EXPOSED)
    assert data["findings"]["summary"]["findings"] == len(report.findings.findings)
    sarif = json.loads(render(report, "sarif"))
    results = sarif["runs"][0]["results"]
    assert len(results) == report.count(EXPOSED) + report.count(UNKNOWN)
    assert {r["level"] for r in results} == {"warning", "note"}
    text = render(report, "text")
    assert "Exposed (" in text and "Does not apply (" in text

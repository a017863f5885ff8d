"""The /exposure/ page: upload a snapshot, read the verdicts."""

from __future__ import annotations

from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile

SNAPSHOT = Path(__file__).resolve().parents[1] / "fixtures" / "cluster-snapshot"


def uploads():
    return [
        SimpleUploadedFile(p.name, p.read_bytes(), content_type="application/json")
        for p in sorted(SNAPSHOT.glob("*.json"))
    ]


def test_the_page_explains_how_to_collect_a_snapshot(client, db):
    response = client.get("/exposure/")
    assert response.status_code == 200
    assert b"kubectl get nodes -o json" in response.content


def test_uploading_the_snapshot_lists_matching_stories_with_evidence(client, make_story):
    make_story(slug="circleci-delays-starting-jobs", title="Delays starting jobs")
    response = client.post("/exposure/", {"files": uploads()})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Could happen here (1)" in html
    assert "Delays starting jobs" in html
    assert "kube-proxy v1.25.6-minimal-eksbuild.1" in html


def test_an_empty_or_unreadable_upload_is_a_form_error_not_a_500(client, db):
    assert client.post("/exposure/", {}).status_code == 400
    response = client.post("/exposure/", {"text": "{nope"})
    assert response.status_code == 400
    assert b"could not be read" in response.content
    both = client.post("/exposure/", {"text": "{}", "files": uploads()})
    assert both.status_code == 400
    assert b"not both" in both.content


def test_a_story_page_shows_its_exposure_conditions_and_their_sources(client, make_story):
    make_story(slug="buffer-remove-cpu-limits", title="Removing CPU limits")
    html = client.get("/stories/buffer-remove-cpu-limits/").content.decode()
    assert "Could this happen to us?" in html
    assert "kernel &lt;5.4 without the fix of 4.19.84, 5.4" in html
    assert "https://github.com/kubernetes/kubernetes/issues/67577" in html


def test_a_story_without_conditions_says_none_are_known(client, make_story):
    make_story(slug="no-conditions-here")
    html = client.get("/stories/no-conditions-here/").content.decode()
    assert "No version, platform or configuration conditions are known" in html

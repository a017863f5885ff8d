"""The "Check my manifests" page: paste or upload, findings by object, downloads, errors."""

from __future__ import annotations

import json
import random

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.web.conftest import assert_csp_clean

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
spec:
  replicas: 3
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
        - name: app
          image: example/api:1.0
"""


@pytest.mark.django_db
def test_form_states_the_size_limit(client, settings):
    settings.KB_MAX_MANIFEST_BYTES = 2 * 1024 * 1024
    body = client.get("/check/").content.decode()
    assert "Up to 2.0\xa0MB" in body
    assert 'enctype="multipart/form-data"' in body
    assert_csp_clean(body)


@pytest.mark.django_db
def test_pasted_manifest_gives_findings_grouped_by_object(client, dataset):
    response = client.post("/check/", {"manifest": DEPLOYMENT})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Deployment/api" in body and "namespace shop" in body
    assert 'href="/rules/KB002/"' in body
    assert "spec.template.spec.containers[0].resources.limits.memory" in body
    assert "sev--warning" in body
    # The stories behind the rule are linked from the finding.
    assert 'href="/stories/bluematador-node-oom/"' in body
    assert "1</strong> document" in body
    assert_csp_clean(body)


@pytest.mark.django_db
def test_uploaded_file_is_checked(client, dataset):
    upload = SimpleUploadedFile("deploy.yaml", DEPLOYMENT.encode(), "text/yaml")
    body = client.post("/check/", {"file": upload}).content.decode()
    assert "Results for <code>deploy.yaml</code>" in body
    assert "KB002" in body


@pytest.mark.django_db
def test_clean_manifest_says_so(client, dataset):
    body = client.post("/check/", {"manifest": "apiVersion: v1\nkind: ConfigMap\n"}).content
    assert "No findings" in body.decode()


@pytest.mark.django_db
def test_malformed_yaml_names_document_and_line(client, dataset):
    text = "apiVersion: v1\nkind: ConfigMap\n---\napiVersion: v1\nkind: [unclosed\n"
    body = client.post("/check/", {"manifest": text}).content.decode()
    assert "Some input could not be read" in body
    assert "document 2, line" in body


@pytest.mark.django_db
def test_empty_and_double_input_are_refused_with_a_clear_message(client, dataset):
    response = client.post("/check/", {"manifest": "  "})
    assert response.status_code == 400
    assert "Paste some YAML or JSON" in response.content.decode()
    upload = SimpleUploadedFile("a.yaml", b"kind: Pod\n")
    response = client.post("/check/", {"manifest": "kind: Pod", "file": upload})
    assert response.status_code == 400 and "not both" in response.content.decode()


@pytest.mark.django_db
def test_oversized_input_is_refused(client, dataset, settings):
    settings.KB_MAX_MANIFEST_BYTES = 1024
    response = client.post("/check/", {"manifest": "a: b\n" * 400})
    assert response.status_code == 400
    assert "larger than 1.0\xa0KB" in response.content.decode()
    upload = SimpleUploadedFile("big.yaml", b"a: b\n" * 400)
    response = client.post("/check/", {"file": upload})
    assert response.status_code == 400 and "the limit is 1.0\xa0KB" in response.content.decode()


@pytest.mark.django_db
def test_results_download_as_sarif_and_json(client, dataset):
    body = client.post("/check/", {"manifest": DEPLOYMENT}).content.decode()
    assert 'name="format" value="sarif"' in body and 'name="format" value="json"' in body
    sarif = client.post("/check/", {"manifest": DEPLOYMENT, "format": "sarif"})
    assert sarif["Content-Type"].startswith("application/sarif+json")
    assert 'filename="kb-check.sarif"' in sarif["Content-Disposition"]
    assert json.loads(sarif.content)["version"] == "2.1.0"
    data = json.loads(client.post("/check/", {"manifest": DEPLOYMENT, "format": "json"}).content)
    finding = next(f for f in data["findings"] if f["rule"]["id"] == "KB002")
    assert finding["rule"]["url"] == "http://testserver/rules/KB002/"
    assert finding["stories"][0]["url"].startswith("http://testserver/stories/")


@pytest.mark.django_db
def test_sarif_rules_link_their_published_stories_and_no_draft(client, dataset, make_story):
    from incidents.rules.registry import REGISTRY

    rule = next(r for r in REGISTRY.all() if len(r.stories) >= 2)
    shown, hidden = rule.stories[:2]
    make_story(slug=shown, title="The published one")
    make_story(slug=hidden, title="The draft one", status="draft")
    sarif = json.loads(client.post("/check/", {"manifest": DEPLOYMENT, "format": "sarif"}).content)
    (descriptor,) = [d for d in sarif["runs"][0]["tool"]["driver"]["rules"] if d["id"] == rule.id]
    markdown = descriptor["help"]["markdown"]
    assert f"[The published one](http://testserver/stories/{shown}/)" in markdown
    assert "The draft one" not in markdown


@pytest.mark.django_db
def test_check_for_a_story_runs_only_its_rules(client, dataset):
    page = client.get("/check/?story=oom-at-acme").content.decode()
    assert "Checking only against the rules linked to" in page
    assert 'name="story" value="oom-at-acme"' in page
    body = client.post("/check/", {"manifest": DEPLOYMENT, "story": "oom-at-acme"}).content
    rule_ids = {line for line in body.decode().split('"') if line.startswith("/rules/KB")}
    assert rule_ids == {"/rules/KB002/"}


@pytest.mark.django_db
def test_example_prefills_the_form(client, db):
    body = client.get("/check/?example=1").content.decode()
    assert "kind: Deployment" in body


@pytest.mark.django_db
def test_checks_from_one_address_are_rate_limited(client, settings):
    settings.KB_WEB_CHECK_THROTTLE = "2/minute"
    address = "10." + ".".join(str(random.randrange(1, 255)) for _ in range(3))
    replies = [
        client.post("/check/", {"manifest": DEPLOYMENT}, REMOTE_ADDR=address) for _ in range(3)
    ]
    assert [r.status_code for r in replies] == [200, 200, 429]
    assert 1 <= int(replies[2]["Retry-After"]) <= 60
    body = replies[2].content.decode()
    assert "were not checked" in body and 'id="results-title"' not in body
    assert 'id="results-title"' in replies[1].content.decode()
    assert DEPLOYMENT.splitlines()[3] in body  # the pasted text is kept in the form
    assert_csp_clean(body)
    # Reading the page is not counted, and another address has its own quota.
    assert client.get("/check/", REMOTE_ADDR=address).status_code == 200
    other = "10." + ".".join(str(random.randrange(1, 255)) for _ in range(3))
    assert client.post("/check/", {"manifest": DEPLOYMENT}, REMOTE_ADDR=other).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    "text",
    [
        "kind: Pod\nspec: {replicas: " + "9" * 5000 + "}",
        '{"kind": "Pod", "n": ' + "9" * 5000 + "}",
        '{"kind": "Pod", "metadata": {"name": "\\ud800"}}',
        "kind: Pod\nn: 1" + ":0" * 50_000,
    ],
    ids=["yaml-bigint", "json-bigint", "json-lone-surrogate", "yaml-sexagesimal"],
)
@pytest.mark.parametrize("how", ["paste", "upload"])
def test_numbers_and_strings_python_cannot_handle_are_reported_not_a_500(client, text, how):
    if how == "paste":
        response = client.post("/check/", {"manifest": text})
    else:
        upload = SimpleUploadedFile("m.yaml", text.encode(), "text/yaml")
        response = client.post("/check/", {"file": upload})
    assert response.status_code in (200, 400)
    assert "refused" in response.content.decode() or "surrogate" in response.content.decode()


@pytest.mark.django_db
def test_each_finding_shows_its_fix_and_the_patch_when_mechanical(client, dataset):
    job = (
        "apiVersion: batch/v1\nkind: Job\nmetadata: {name: migrate}\nspec:\n  template:\n"
        "    spec:\n      restartPolicy: Never\n      containers:\n"
        "      - {name: m, image: example/m:1.0}\n"
    )
    body = client.post("/check/", {"manifest": DEPLOYMENT + "---\n" + job}).content.decode()
    assert body.count('class="fix"') == body.count('class="finding"') > 0
    assert "Fix:</strong> Set `backoffLimit`" in body.replace("&#x60;", "`")
    assert "/spec/backoffLimit" in body and "kubectl patch --type json" in body
    assert_csp_clean(body)


def test_a_check_with_many_objects_shows_the_first_and_counts_the_rest(client, dataset):
    from incidents.views.rules import MAX_PAGE_OBJECTS

    text = "---\n".join(DEPLOYMENT.replace("name: api", f"name: api-{i}") for i in range(250))
    response = client.post("/check/", {"manifest": text})
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count('class="card object-group"') == MAX_PAGE_OBJECTS
    assert f"{250 - MAX_PAGE_OBJECTS} more objects have findings" in body

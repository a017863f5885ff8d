"""The API carries a story's Chinese summary (`summary_zh`) both ways."""

from __future__ import annotations

import pytest

from incidents.models import Status, Story


@pytest.mark.django_db
def test_the_api_reads_and_writes_summary_zh(curator_client, stories):
    story = Story.objects.filter(status=Status.PUBLISHED).first()
    detail = curator_client.get(f"/api/v1/stories/{story.slug}/").json()
    assert detail["summary_zh"] == ""
    response = curator_client.patch(
        f"/api/v1/stories/{story.slug}/",
        {"summary_zh": "中文摘要。"},
        format="json",
        HTTP_IF_MATCH=f'"{detail["version"]}"',
    )
    assert response.status_code == 200, response.json()
    assert Story.objects.get(pk=story.pk).summary_zh == "中文摘要。"

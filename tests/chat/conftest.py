"""Chat fixtures: secrets configured, a private search index with the API test stories."""

from __future__ import annotations

import base64

import pytest
from django.core.management import call_command

from tests.api.conftest import stories  # noqa: F401 - the same three stories and a draft

SLACK_SECRETS = ["new-slack-signing-secret", "old-slack-signing-secret"]
MATTERMOST_TOKEN = "mm-token-123"
TEAMS_KEY = b"teams-hmac-key-0123456789"


@pytest.fixture(autouse=True)
def chat_settings(settings, tmp_path, db):
    settings.KB_SEARCH_INDEX_DIR = tmp_path / "search"
    settings.SITE_URL = "https://kb.example"
    settings.SLACK_SIGNING_SECRET = list(SLACK_SECRETS)
    settings.MATTERMOST_TOKEN = [MATTERMOST_TOKEN]
    settings.TEAMS_HMAC_SECRET = base64.b64encode(TEAMS_KEY).decode()
    call_command("createcachetable", verbosity=0)
    return settings

"""Fixtures for the deployment tests."""

from __future__ import annotations

import pytest

from tests.deploy.helpers import load_manifests


@pytest.fixture(scope="session")
def manifests() -> list[dict]:
    return load_manifests()

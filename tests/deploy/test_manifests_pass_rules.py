"""Our own deployment passes our own rule library: not even an info-level finding."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from tests.deploy.helpers import DEPLOY


@pytest.mark.django_db
def test_kbcheck_finds_nothing_in_the_kubernetes_manifests():
    paths = sorted(str(p) for p in (DEPLOY / "k8s").glob("*.yaml"))
    out = io.StringIO()
    try:
        call_command("kbcheck", *paths, "--fail-on", "info", stdout=out)
    except SystemExit as exc:  # kbcheck exits 1 on findings, 2 on input errors
        raise AssertionError(out.getvalue()) from exc
    assert "0 finding(s)" in out.getvalue() and "0 input error(s)" in out.getvalue()

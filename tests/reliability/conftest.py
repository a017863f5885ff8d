"""Every test here is part of the reliability suite (`make test-reliability`), not `make test`."""

from __future__ import annotations

import pytest

from tests.reliability import harness


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/reliability/" in str(item.fspath):
            item.add_marker(pytest.mark.reliability)


def report(capsys, title: str, **numbers) -> None:
    """Print measured numbers even though pytest captures output."""
    with capsys.disabled():
        shown = ", ".join(f"{k}={v}" for k, v in numbers.items())
        print(f"\n[reliability] {title}: {shown}")


def pytest_sessionfinish(session, exitstatus):
    harness.drop_templates()

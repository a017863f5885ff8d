"""Test-wide environment: set before Django reads its settings."""

import os
import tempfile

os.environ.setdefault("KB_TESTING", "true")
os.environ.setdefault("KB_SEARCH_INDEX_DIR", tempfile.mkdtemp(prefix="kb-test-index-"))

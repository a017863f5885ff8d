"""Test-wide environment: set before Django reads its settings."""

import os
import tempfile

os.environ.setdefault("KB_TESTING", "true")
os.environ.setdefault("KB_SEARCH_INDEX_DIR", tempfile.mkdtemp(prefix="kb-test-index-"))
# A developer's .env (written by `make setup`: DEBUG on, perhaps a DATABASE_URL) never leaks into
# the tests or the subprocesses they start; tests of the file itself point KB_ENV_FILE at one.
os.environ.setdefault("KB_ENV_FILE", "")

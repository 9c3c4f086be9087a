"""Make the collection importable as ansible_collections.container_storage.devicemapper."""

import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.path.join(REPO, ".build", "collections")
LINK = os.path.join(COLLECTIONS, "ansible_collections", "container_storage", "devicemapper")

if not os.path.exists(LINK):
    os.makedirs(os.path.dirname(LINK), exist_ok=True)
    os.symlink(REPO, LINK)
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def host_lock_in_tmp(tmp_path, monkeypatch):
    """Modules take the host lock; in unit tests it lives in the test's own directory."""
    from ansible_collections.container_storage.devicemapper.plugins.module_utils import _lock
    monkeypatch.setattr(_lock, "LOCK_DIRS", (str(tmp_path),))

"""The collector script, loaded once from the role's files/."""

import pytest

from monitor_helpers import load_collector


@pytest.fixture(scope="session")
def collector():
    return load_collector()

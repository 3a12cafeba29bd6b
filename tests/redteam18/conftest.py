"""Red-team reproductions for issue 18 (run as acceptance tests: the CLI as a subprocess)."""

import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        if "redteam18" in item.path.parts:
            item.add_marker(pytest.mark.acceptance)

import os
from pathlib import Path

import pytest
from hypothesis import settings

# Gradient checks are slow-ish per example and the CI machine has 2 cores: no per-example deadline.
settings.register_profile("project", deadline=None, max_examples=40)
settings.load_profile("project")


@pytest.fixture
def shared_data():
    """The shared data folder ($TINYGRAD_HW_DATA); tests that need it skip when it is absent."""
    root = os.environ.get("TINYGRAD_HW_DATA")
    if not root or not Path(root).is_dir():
        pytest.skip("needs the shared data: set TINYGRAD_HW_DATA to the data folder (CI uses ../shared/data)")
    return Path(root)

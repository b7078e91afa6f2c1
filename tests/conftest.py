import os
from pathlib import Path

import pytest
from hypothesis import settings

# Gradient checks are slow-ish per example and the CI machine has 2 cores: no per-example deadline.
# Derandomized so that a run is reproducible and CI cannot fail on an example no earlier run drew;
# HYPOTHESIS_PROFILE=explore draws fresh examples (and more of them) when hunting for bugs.
settings.register_profile("project", deadline=None, max_examples=40, derandomize=True)
settings.register_profile("explore", deadline=None, max_examples=400)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "project"))


@pytest.fixture
def shared_data():
    """The shared data folder ($TINYGRAD_HW_DATA); tests that need it skip when it is absent."""
    root = os.environ.get("TINYGRAD_HW_DATA")
    if not root or not Path(root).is_dir():
        pytest.skip("needs the shared data: set TINYGRAD_HW_DATA to the data folder (CI uses ../shared/data)")
    return Path(root)


@pytest.fixture(scope="session")
def embedded_default_file():
    """The embedded default's cache file, generated once per session into the user's cache (about
    9 s): tests that give a command a cache folder of its own copy it in rather than regenerate it."""
    from ocr.nist36.embedded import load_synthetic, synthetic_cache_file

    load_synthetic(0)
    return synthetic_cache_file(0)

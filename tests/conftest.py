"""Test-wide settings: compiled kernels go to a fresh cache folder, never the user's own."""

import pytest


@pytest.fixture(autouse=True, scope="session")
def private_kernel_cache(tmp_path_factory):
    import os

    folder = tmp_path_factory.mktemp("graphc-cache")
    previous = os.environ.get("GRAPHC_CACHE_DIR")
    os.environ["GRAPHC_CACHE_DIR"] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop("GRAPHC_CACHE_DIR", None)
    else:
        os.environ["GRAPHC_CACHE_DIR"] = previous

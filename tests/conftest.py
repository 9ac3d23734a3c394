"""Test-wide settings: compiled kernels go to a fresh cache folder, never the user's own; CUDA code runs under
Numba's CUDA simulator unless ``GRAPHC_TEST_GPU=1`` asks for the real GPU."""

import os

import pytest

if os.environ.get("GRAPHC_TEST_GPU") != "1":
    os.environ["NUMBA_ENABLE_CUDASIM"] = "1"  # read when numba is first imported, which is after this


@pytest.fixture(autouse=True, scope="session")
def private_kernel_cache(tmp_path_factory):
    folder = tmp_path_factory.mktemp("graphc-cache")
    previous = os.environ.get("GRAPHC_CACHE_DIR")
    os.environ["GRAPHC_CACHE_DIR"] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop("GRAPHC_CACHE_DIR", None)
    else:
        os.environ["GRAPHC_CACHE_DIR"] = previous


@pytest.fixture(params=["cpu", "cuda"])
def backend(request):
    """Each compiled backend in turn: the same parity tests hold for both (CUDA under the simulator in CI)."""
    return request.param


@pytest.fixture(scope="module")
def language_data():
    """A tiny corpus: its vocabulary, training windows (6 x 4) and validation windows (6 x 2)."""
    from graphc import data

    text = ["the cat sat on the mat. " * 6, "a dog ate the hat. " * 6, "one fox ran far. " * 6]
    vocabulary = data.Vocabulary.build(text)
    stream = vocabulary.stream(text)
    return vocabulary, data.Windows(stream[:300], seq_len=6, batch=4), data.Windows(stream[300:], seq_len=6, batch=2)

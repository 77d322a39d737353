"""Shared test set-up: nothing a test does may touch the user's real cache."""

import os

import pytest


@pytest.fixture(autouse=True, scope="session")
def private_cache_dir(tmp_path_factory):
    """Quality classifiers trained by tests go to a temporary cache (children inherit the variable)."""
    previous = os.environ.get("GANTUI_CACHE_DIR")
    os.environ["GANTUI_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if previous is None:
        os.environ.pop("GANTUI_CACHE_DIR", None)
    else:
        os.environ["GANTUI_CACHE_DIR"] = previous

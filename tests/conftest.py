"""Shared test fixtures. Tests run single-threaded: the CI machine has 2 cores,
and a single thread keeps small-tensor timings steady and leaves room for
parallel work."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

torch.set_num_threads(1)

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session", autouse=True)
def derived_data_cache(tmp_path_factory):
    """Derived datasets (mnist-m) are built once per test session into a temporary cache, never ~/.cache."""
    os.environ["GANKIT_CACHE"] = str(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The offline MNIST / Fashion-MNIST copy in torchvision's layout (../shared/data)."""
    root = Path(os.environ.get("GANKIT_TEST_DATA", SHARED_DATA))
    if not (root / "MNIST" / "raw").is_dir():
        pytest.fail(f"offline test data not found at {root}; set GANKIT_TEST_DATA")
    return root

"""Datasets, batch drawing, and the 2-D protocol's metric."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gankit.data import load_dataset, uint8_to_float
from gankit.data.base import float_to_uint8
from gankit.metrics.toy2d import mode_metrics


def test_ring8_modes_are_eight_distinct_points_on_the_unit_circle():
    ring = load_dataset("ring8")
    angles = sorted(math.atan2(y, x) % (2 * math.pi) for x, y in ring.modes.tolist())
    assert angles == pytest.approx([2 * math.pi * k / 8 for k in range(8)], abs=1e-6)
    assert ring.std == 0.01


def test_grid25_modes_and_samples():
    grid = load_dataset("grid25")
    expected = {(-4 + 2 * i, -4 + 2 * j) for i in range(5) for j in range(5)}
    assert {tuple(map(round, p)) for p in grid.modes.tolist()} == expected
    samples = grid.sample(20000, torch.Generator().manual_seed(0))
    nearest = torch.cdist(samples, grid.modes).min(dim=1)
    assert nearest.values.std().item() < 0.1
    counts = torch.bincount(nearest.indices, minlength=25).float()
    assert counts.min() > 0.7 * counts.mean()


def test_toy_batches_are_reproducible_and_restorable():
    ring = load_dataset("ring8")
    a = ring.batches(16, seed=3, device=torch.device("cpu"))
    b = ring.batches(16, seed=3, device=torch.device("cpu"))
    assert torch.equal(a.next().x, b.next().x)
    state = a.state_dict()
    following = a.next().x
    b.load_state_dict(state)
    assert torch.equal(b.next().x, following)


def test_image_batches_visit_every_image_once_per_epoch():
    digits = load_dataset("digits")
    batches = digits.batches(100, seed=0, device=torch.device("cpu"))
    seen = torch.cat([batches.next().y for _ in range(len(digits) // 100)])
    assert len(seen) == 1700
    assert torch.bincount(seen, minlength=10).min() > 150  # a shuffle, not one class at a time
    first = batches.next()  # the next epoch starts afresh
    assert batches.order.position == 100 and first.x.shape == (100, 1, 8, 8)


def test_digits_range_and_labels():
    digits = load_dataset("digits")
    assert digits.images.dtype == torch.uint8 and digits.images.max() == 255
    assert digits.spec.shape == (1, 8, 8) and digits.spec.num_classes == 10
    x = uint8_to_float(digits.images[:10])
    assert x.min() >= -1 and x.max() <= 1
    assert torch.equal(float_to_uint8(x), digits.images[:10])


def test_mnist_and_fashion_from_the_offline_copy(shared_data):
    mnist = load_dataset("mnist", root=str(shared_data))
    assert len(mnist) == 60000 and mnist.spec.shape == (1, 28, 28)
    fashion = load_dataset("fashion-mnist", root=str(shared_data), split="test", image_size=32)
    assert len(fashion) == 10000 and fashion.spec.shape == (1, 32, 32)


def test_gankit_data_environment_variable(shared_data, monkeypatch):
    monkeypatch.setenv("GANKIT_DATA", str(shared_data))
    assert len(load_dataset("mnist", split="test")) == 10000


def test_mode_metrics_on_hand_placed_points():
    modes = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    std = 0.1
    samples = torch.tensor([
        [0.05, 0.0], [0.0, -0.2], [0.1, 0.1],   # mode 0: three within 3 std (0.3)
        [10.0, 0.29],                           # mode 1: one
        [5.0, 5.0],                             # nowhere: low quality
        [0.0, 10.5],                            # 0.5 from mode 2: low quality
    ])
    result = mode_metrics(samples, modes, std)
    assert result["modes_covered"] == 2 and result["modes_total"] == 3
    assert result["high_quality_pct"] == pytest.approx(100 * 4 / 6)
    p = np.array([3 / 4, 1 / 4])
    assert result["reverse_kl"] == pytest.approx(float((p * np.log(p * 3)).sum()))


def test_mode_metrics_without_any_good_sample():
    result = mode_metrics(torch.full((5, 2), 50.0), torch.zeros(1, 2), 0.1)
    assert result["modes_covered"] == 0 and result["high_quality_pct"] == 0 and result["reverse_kl"] is None


def test_power_of_two_sizes_fit_and_name_their_neighbours():
    from gankit.nets.blocks import PowerOfTwoSizes

    sizes = PowerOfTwoSizes(8)
    assert [s for s in range(1, 70) if sizes.accepts(s)] == [8, 16, 32, 64]
    assert [sizes.fit(s) for s in (1, 8, 9, 28, 32, 33)] == [8, 8, 16, 32, 32, 64]
    assert sizes.nearest(30) == [16, 32] and sizes.nearest(5) == [8] and sizes.nearest(9) == [8, 16]

"""The memorisation check: it flags a "generator" that returns training images and passes one that
returns held-out images; nearest neighbours are found in chunks; the picture pairs them up."""
from __future__ import annotations

import torch
from PIL import Image

from gankit.data import float_to_uint8, uint8_to_float
from gankit.metrics import memorisation as check
from test_swd import shapes


def folder_like(seed: int, n: int) -> torch.Tensor:
    """Float images as a folder would give them (uint8 and back): 16x16 discs."""
    return uint8_to_float(float_to_uint8(shapes(n, size=16, seed=seed)))


TRAIN = float_to_uint8(folder_like(0, 400))
HELD_OUT = folder_like(1, 60)


def test_a_generator_that_returns_training_images_is_flagged():
    metrics, distance, nearest = check.memorisation(uint8_to_float(TRAIN[:200]), HELD_OUT, TRAIN)
    assert metrics == {"memorisation_ratio": 0.0, "memorisation_share": 1.0}
    assert torch.equal(distance, torch.zeros(200)) and torch.equal(nearest, torch.arange(200))


def test_a_generator_that_returns_held_out_or_new_images_passes():
    metrics, _, _ = check.memorisation(HELD_OUT, HELD_OUT, TRAIN)
    assert metrics["memorisation_ratio"] == 1.0 and metrics["memorisation_share"] <= 0.05
    fresh, _, _ = check.memorisation(folder_like(2, 300), HELD_OUT, TRAIN)
    assert 0.7 < fresh["memorisation_ratio"] < 1.4 and fresh["memorisation_share"] < 0.15


def test_nearest_neighbours_in_chunks_match_one_full_distance_matrix(monkeypatch):
    queries = folder_like(3, 23)
    expected = torch.cdist(check.downscaled(queries), check.downscaled(uint8_to_float(TRAIN)),
                           compute_mode="donot_use_mm_for_euclid_dist").min(1)
    monkeypatch.setattr(check, "TRAIN_CHUNK", 7)
    monkeypatch.setattr(check, "QUERY_CHUNK", 5)
    distance, index = check.nearest_train(queries, TRAIN)
    assert torch.equal(index, expected.indices) and torch.allclose(distance, expected.values)


def test_large_images_are_compared_at_32x32():
    assert check.downscaled(torch.zeros(2, 3, 64, 48)).shape == (2, 3 * 32 * 32)
    assert check.downscaled(torch.zeros(2, 1, 16, 16)).shape == (2, 256)


def test_picture_puts_each_sample_above_its_nearest_training_image(tmp_path):
    samples = folder_like(4, 20)
    _, distance, nearest = check.memorisation(samples, HELD_OUT, TRAIN)
    check.save_nearest_picture(samples, TRAIN, distance, nearest, tmp_path / "pairs.png")
    with Image.open(tmp_path / "pairs.png") as picture:  # 16 pairs: 4 rows of 8 cells, 16x16 shown at 32x32
        assert picture.size == (8 * 33 + 1, 4 * 33 + 1)
    check.save_nearest_picture(samples[:5], TRAIN, distance[:5], nearest[:5], tmp_path / "few.png")
    with Image.open(tmp_path / "few.png") as picture:
        assert picture.size == (5 * 33 + 1, 2 * 33 + 1)

"""Sliced Wasserstein distance: zero against itself, near zero within a distribution, growing with
noise and blur, equal to an independent NumPy computation, and part of the image metrics."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision.transforms.v2.functional as TF

from gankit.metrics import swd as swd_module
from gankit.metrics.swd import SWDSettings, laplacian_pyramid, level_sizes, random_draws, swd

FAST = SWDSettings(patches_per_image=32, projections=128)


def shapes(n: int, size: int = 32, seed: int = 0, squares: bool = False) -> torch.Tensor:
    """n colour images in [-1, 1]: one disc (or square) of random place, size and colour on a dark background."""
    g = torch.Generator().manual_seed(seed)
    centre = torch.rand(n, 2, 1, 1, generator=g) * size * 0.6 + size * 0.2
    radius = torch.rand(n, 1, 1, generator=g) * size * 0.2 + size * 0.1
    colour = torch.rand(n, 3, 1, 1, generator=g) * 2 - 1
    background = torch.rand(n, 3, 1, 1, generator=g) * 0.5 - 1
    rows, columns = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    dy, dx = rows - centre[:, 0], columns - centre[:, 1]
    inside = torch.maximum(dy.abs(), dx.abs()) < radius if squares else dy ** 2 + dx ** 2 < radius ** 2
    return torch.where(inside[:, None], colour, background)


@pytest.fixture(scope="module")
def discs():
    return shapes(512, seed=0), shapes(512, seed=1)


def test_a_set_against_itself_is_zero_and_scores_repeat(discs):
    real, other = discs
    assert swd(real, real, FAST) == {"swd_32": 0.0, "swd_16": 0.0, "swd": 0.0}
    assert swd(real, other, FAST) == swd(real, other, FAST)


def test_same_distribution_is_far_below_a_different_one(discs):
    real, same = discs
    near, far = swd(real, same, FAST), swd(real, shapes(512, seed=1, squares=True), FAST)
    assert near["swd"] < 0.4 * far["swd"]
    assert near["swd"] == pytest.approx((near["swd_32"] + near["swd_16"]) / 2)


def test_grows_with_noise_and_with_blur(discs):
    real, other = discs[0][:256], discs[1][:256]
    noise = torch.randn(other.shape, generator=torch.Generator().manual_seed(1))
    noisy = [swd(real, other + sigma * noise, FAST)["swd"] for sigma in (0.0, 0.05, 0.1, 0.2, 0.4)]
    blurred = [swd(real, TF.gaussian_blur(other, [9, 9], [sigma, sigma]), FAST)["swd"] for sigma in (0.5, 1.0, 2.5)]
    assert noisy == sorted(noisy) and len(set(noisy)) == len(noisy), noisy
    assert [noisy[0]] + blurred == sorted([noisy[0]] + blurred) and blurred[0] > noisy[0], blurred


def test_level_sizes_halve_down_to_16_and_small_images_are_refused():
    assert level_sizes(64, 64) == [(64, 64), (32, 32), (16, 16)]
    assert level_sizes(28, 28) == [(28, 28)]
    assert level_sizes(33, 40) == [(33, 40), (17, 20)]
    with pytest.raises(ValueError, match="at least 16x16"):
        swd(torch.zeros(2, 1, 8, 8), torch.zeros(2, 1, 8, 8))


# --- an independent NumPy computation -------------------------------------------------------

def np_blur(image: np.ndarray, gain: float = 1.0) -> np.ndarray:
    """(C, H, W) convolved with the 5x5 binomial kernel, borders mirrored without repeating the edge."""
    kernel = np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]) / 256 * gain
    padded = np.pad(image, ((0, 0), (2, 2), (2, 2)), mode="reflect")
    height, width = image.shape[1:]
    return sum(kernel[i, j] * padded[:, i:i + height, j:j + width] for i in range(5) for j in range(5))


def np_pyramid(image: np.ndarray, levels: int) -> list[np.ndarray]:
    out, current = [], image
    for _ in range(levels - 1):
        smaller = np_blur(current)[:, ::2, ::2]
        spread = np.zeros_like(current)
        spread[:, ::2, ::2] = smaller
        out.append(current - np_blur(spread, gain=4.0))
        current = smaller
    return out + [current]


def np_swd(real: np.ndarray, fake: np.ndarray, draws) -> list[float]:
    """Per level: descriptors at the given corners, standardised by the real ones, sorted projections."""
    pyramids = [[np_pyramid(image, len(draws)) for image in images] for images in (real, fake)]
    result = []
    for level, (corners, directions) in enumerate(draws):
        corners, directions = corners.numpy(), directions.numpy().astype(np.float64)
        sets = []
        for pyramid in pyramids:
            sets.append(np.array([pyramid[i][level][:, r:r + 7, c:c + 7]
                                  for i in range(len(pyramid)) for r, c in corners[i]]))
        mean = sets[0].mean(axis=(0, 2, 3), keepdims=True)
        std = sets[0].std(axis=(0, 2, 3), keepdims=True)
        projected = [np.sort(((s - mean) / std).reshape(len(s), -1) @ directions, axis=0) for s in sets]
        result.append(1e3 * np.abs(projected[0] - projected[1]).mean())
    return result


@pytest.mark.parametrize("channels,size", [(3, 33), (1, 16)])
def test_equals_an_independent_numpy_computation(monkeypatch, channels, size):
    monkeypatch.setattr(swd_module, "IMAGE_CHUNK", 2)  # pyramids of 2, 2 and 1 images
    g = torch.Generator().manual_seed(7)
    real, fake = torch.rand(5, channels, size, size, generator=g), torch.rand(5, channels, size, size, generator=g)
    sizes = level_sizes(size, size)
    draws = random_draws(5, sizes, channels, patches_per_image=8, projections=16, seed=3)
    for level, expected in zip(laplacian_pyramid(real), np_pyramid(real[0].double().numpy(), len(sizes))):
        np.testing.assert_allclose(level[0].numpy(), expected, atol=1e-6)
    expected = np_swd(real.double().numpy(), fake.double().numpy(), draws)
    got = swd(real, fake, SWDSettings(patches_per_image=8, projections=16), seed=3)
    assert [got[f"swd_{min(s)}"] for s in sizes] == pytest.approx(expected, rel=1e-5)
    assert got["swd"] == pytest.approx(np.mean(expected), rel=1e-5)


def test_mnist_evaluation_adds_swd_beside_the_classifier_metrics(shared_data):
    from gankit.data import load_dataset, uint8_to_float
    from gankit.metrics.images import image_metrics

    test = load_dataset("mnist", str(shared_data), "test", download=False)
    samples = uint8_to_float(load_dataset("mnist", str(shared_data), "train", download=False).images[:300])
    metrics = image_metrics(None, samples, test)
    assert {"fid", "swd_28", "swd"} <= set(metrics) and metrics["swd"] == metrics["swd_28"] > 0
    assert metrics["swd_images"] == 300
    assert "memorisation_ratio" not in metrics  # only an image folder's held-out images get that check

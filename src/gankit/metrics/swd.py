"""Sliced Wasserstein distance between image sets (Karras et al. 2018, "Progressive Growing of GANs").

A distance on local image statistics that needs no pretrained network, so it
scores any image data: a user's folder of photos as well as MNIST.

1. Each image becomes a Laplacian pyramid: Gaussian blur with the 5x5 binomial
   kernel ([1, 4, 6, 4, 1] / 16 in each direction, mirrored borders) and 2x
   subsampling, down to the coarsest level that is still at least 16 pixels
   on its shorter side. Every level but the coarsest keeps the detail its
   downsampled copy lost; the coarsest is the blurred image itself. A 64x64
   image gives levels 64, 32 and 16; 28x28 MNIST gives the one level 28.
2. From each level, ``patches_per_image`` 7x7 neighbourhoods per image (all
   channels) become descriptors. Both sets take their patches at the same
   random places, so a set scored against itself gives exactly 0.
3. Descriptors are standardised per channel with the mean and standard
   deviation of the *real* set's descriptors at that level. ProGAN
   standardises each set by its own statistics, which hides a generator whose
   brightness or contrast is off; with the real set's statistics every model
   is measured in the same units, at the cost of symmetry.
4. The distance at a level is the 1-D Wasserstein-1 distance between the two
   sets' projections on ``projections`` random unit directions (the mean
   absolute difference of the sorted projections), averaged over directions.

Values are reported x 1e3, as in the ProGAN paper: ``swd_<level size>`` per
level and ``swd``, their mean. Lower is better. Both sets contribute the same
number of images (the smaller count, at most ``SWDSettings.max_images``); all
random draws come from ``seed``, so a score is repeatable.

ProGAN draws 8,192 images, 128 patches each, and 512 directions (4 x 128).
The defaults here, 2,048 images, 64 patches and 256 directions, keep a 64x64
colour evaluation (3 levels) near 10 s on one AMD EPYC core; sorting the
projections is most of the cost. On 2,048 32x32 MNIST images another seed
(other patches and directions) moves the score by about 0.5, far less than
another draw of 2,048 images does, so more images buy more than more
directions.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

PATCH = 7  # side of a descriptor's neighbourhood
MIN_LEVEL = 16  # the pyramid stops at the last level at least this large
SCALE = 1e3  # reported values are multiplied by this (ProGAN's convention)
DIRECTION_CHUNK = 128  # projections held at once: 128 x 131k descriptors is 67 MB a set
IMAGE_CHUNK = 256  # images whose pyramid is held at once: big temporaries cost more in page faults than in arithmetic


@dataclass(frozen=True)
class SWDSettings:
    """How many images a side, 7x7 patches per image and random directions the distance uses."""

    max_images: int = 2048
    patches_per_image: int = 64
    projections: int = 256


_BINOMIAL = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0]) / 16


def level_sizes(height: int, width: int) -> list[tuple[int, int]]:
    """(height, width) of each pyramid level, finest first; each halves the last (rounding up)."""
    if min(height, width) < MIN_LEVEL:
        raise ValueError(f"sliced Wasserstein distance needs images of at least {MIN_LEVEL}x{MIN_LEVEL}, "
                         f"not {height}x{width}")
    sizes = [(height, width)]
    while True:
        half = (math.ceil(sizes[-1][0] / 2), math.ceil(sizes[-1][1] / 2))  # every other pixel, the first included
        if min(half) < MIN_LEVEL:
            return sizes
        sizes.append(half)


def _blur(images: Tensor, gain: float = 1.0) -> Tensor:
    """Each channel convolved with the 5x5 binomial kernel (times ``gain``), mirrored at the borders."""
    channels = images.shape[1]
    kernel = (torch.outer(_BINOMIAL, _BINOMIAL) * gain).to(images)
    padded = F.pad(images, (2, 2, 2, 2), mode="reflect")
    return F.conv2d(padded, kernel.expand(channels, 1, 5, 5), groups=channels)


def _upsample(images: Tensor, size: tuple[int, int]) -> Tensor:
    """The inverse of blur-and-subsample: zeros between the pixels, then the kernel times 4."""
    spread = images.new_zeros(*images.shape[:2], *size)
    spread[..., ::2, ::2] = images
    return _blur(spread, gain=4.0)


def laplacian_pyramid(images: Tensor) -> list[Tensor]:
    """The Laplacian pyramid of float images (N, C, H, W), finest level first (see the module notes)."""
    sizes = level_sizes(*images.shape[-2:])
    gaussian = images.float()
    levels = []
    for _ in range(len(sizes) - 1):
        smaller = _blur(gaussian)[..., ::2, ::2]
        levels.append(gaussian - _upsample(smaller, size=gaussian.shape[-2:]))
        gaussian = smaller
    return levels + [gaussian]


def random_draws(n_images: int, sizes: list[tuple[int, int]], channels: int, patches_per_image: int,
                 projections: int, seed: int) -> list[tuple[Tensor, Tensor]]:
    """Per level: patch corners (n_images, patches_per_image, 2) as (row, column), and unit projection
    directions (channels * 7 * 7, projections). Everything random in the distance comes from here."""
    generator = torch.Generator().manual_seed(seed)
    draws = []
    for height, width in sizes:
        rows = torch.randint(height - PATCH + 1, (n_images, patches_per_image, 1), generator=generator)
        columns = torch.randint(width - PATCH + 1, (n_images, patches_per_image, 1), generator=generator)
        directions = torch.randn(channels * PATCH * PATCH, projections, generator=generator)
        draws.append((torch.cat([rows, columns], 2), directions / directions.norm(dim=0)))
    return draws


def patch_descriptors(level: Tensor, corners: Tensor) -> Tensor:
    """The 7x7 neighbourhoods of ``level`` (N, C, H, W) at ``corners`` (N, P, 2): (N * P, C, 7, 7)."""
    offsets = torch.arange(PATCH)
    rows = (corners[..., 0:1] + offsets)[..., :, None]  # (N, P, 7, 1)
    columns = (corners[..., 1:2] + offsets)[..., None, :]  # (N, P, 1, 7)
    image = torch.arange(len(level))[:, None, None, None]
    patches = level.permute(0, 2, 3, 1)[image, rows, columns]  # (N, P, 7, 7, C)
    return patches.permute(0, 1, 4, 2, 3).reshape(-1, level.shape[1], PATCH, PATCH)


def level_descriptors(images: Tensor, draws: list[tuple[Tensor, Tensor]]) -> list[Tensor]:
    """For each pyramid level, the descriptors (N * P, C, 7, 7) of ``images`` at the drawn corners."""
    per_level = [[] for _ in draws]
    for start in range(0, len(images), IMAGE_CHUNK):
        pyramid = laplacian_pyramid(images[start:start + IMAGE_CHUNK])
        for parts, level, (corners, _) in zip(per_level, pyramid, draws):
            parts.append(patch_descriptors(level, corners[start:start + IMAGE_CHUNK]))
    return [torch.cat(parts) for parts in per_level]


def sliced_wasserstein(a: Tensor, b: Tensor, directions: Tensor) -> float:
    """Mean over ``directions`` (D, R) of the Wasserstein-1 distance between the projections of
    descriptor sets ``a`` and ``b`` (M, D) of equal size: the mean gap between their sorted values."""
    total = 0.0
    for chunk in directions.split(DIRECTION_CHUNK, dim=1):
        projected_a, projected_b = (chunk.t() @ a.t()).numpy(), (chunk.t() @ b.t()).numpy()
        # In place, by NumPy: about 3x faster than torch.sort on the CPU (vectorised, no indices kept).
        projected_a.sort(axis=1)
        projected_b.sort(axis=1)
        gaps = np.abs(np.subtract(projected_a, projected_b, out=projected_a), out=projected_a)
        total += float(gaps.mean(1).sum())
    return total / directions.shape[1]


@torch.no_grad()
def swd(real: Tensor, fake: Tensor, settings: SWDSettings = SWDSettings(), seed: int = 0) -> dict[str, float]:
    """Sliced Wasserstein distance x 1e3 between image sets (N, C, H, W) of one size, float in [-1, 1]:
    ``swd_<size>`` for each pyramid level (named by its shorter side) and their mean ``swd``."""
    if real.shape[1:] != fake.shape[1:]:
        raise ValueError(f"real images are {tuple(real.shape[1:])}, fake ones {tuple(fake.shape[1:])}")
    n = min(len(real), len(fake), settings.max_images)
    channels, height, width = real.shape[1:]
    sizes = level_sizes(height, width)
    draws = random_draws(n, sizes, channels, settings.patches_per_image, settings.projections, seed)
    result = {}
    for real_patches, fake_patches, (_, directions), size in zip(
            level_descriptors(real[:n], draws), level_descriptors(fake[:n], draws), draws, sizes):
        mean = real_patches.mean(dim=(0, 2, 3), keepdim=True)
        std = real_patches.std(dim=(0, 2, 3), correction=0, keepdim=True).clamp_min(1e-6)  # constant: stays finite
        for patches in (real_patches, fake_patches):
            patches.sub_(mean).div_(std)
        distance = sliced_wasserstein(real_patches.flatten(1), fake_patches.flatten(1), directions)
        result[f"swd_{min(size)}"] = SCALE * distance
    result["swd"] = math.fsum(result.values()) / len(result)
    return result

"""The 2-D mode-collapse benchmarks: ring8 and grid25 (protocol in MODELS.md)."""
from __future__ import annotations

import math

import torch
from torch import Tensor

from gankit.data.base import Batch, DataSpec


class GaussianMixture2D:
    """Equal-weight isotropic Gaussians at ``modes`` with standard deviation ``std``."""

    def __init__(self, name: str, modes: Tensor, std: float):
        self.modes = modes
        self.std = std
        self.spec = DataSpec(name, "toy2d", (2,))

    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        which = torch.randint(len(self.modes), (n,), generator=generator)
        return self.modes[which] + self.std * torch.randn(n, 2, generator=generator)

    def batches(self, batch_size: int, seed: int, device: torch.device) -> "MixtureBatches":
        return MixtureBatches(self, batch_size, seed, device)


class MixtureBatches:
    """Fresh samples every batch, from a private generator whose state is saved."""

    def __init__(self, mixture: GaussianMixture2D, batch_size: int, seed: int, device: torch.device):
        self.mixture = mixture
        self.batch_size = batch_size
        self.device = device
        self.generator = torch.Generator().manual_seed(seed)

    def next(self) -> Batch:
        return Batch(self.mixture.sample(self.batch_size, self.generator).to(self.device))

    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])


def ring8() -> GaussianMixture2D:
    """8 modes at angles 2*pi*k/8 on the unit circle, std 0.01."""
    angles = torch.arange(8, dtype=torch.float64) * (2 * math.pi / 8)
    modes = torch.stack([angles.cos(), angles.sin()], dim=1).float()
    return GaussianMixture2D("ring8", modes, std=0.01)


def grid25() -> GaussianMixture2D:
    """25 modes at (-4 + 2i, -4 + 2j), i, j in 0..4, std 0.05."""
    coords = torch.arange(-4.0, 5.0, 2.0)
    modes = torch.cartesian_prod(coords, coords)
    return GaussianMixture2D("grid25", modes, std=0.05)

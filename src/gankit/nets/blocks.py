"""Small shared pieces: normalisation and activation by name, DCGAN init."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Union

import torch
from torch import nn

NORMS = ("batch", "layer", "instance", "none")


def norm_layer(kind: str, channels: int, conv: bool = True) -> nn.Module:
    """A normalisation layer by name; 'layer' normalises each sample over C, H, W."""
    if kind == "batch":
        return nn.BatchNorm2d(channels) if conv else nn.BatchNorm1d(channels)
    if kind == "layer":
        return nn.GroupNorm(1, channels) if conv else nn.LayerNorm(channels)
    if kind == "instance":
        if not conv:
            raise ValueError("instance norm needs feature maps, not vectors")
        return nn.InstanceNorm2d(channels, affine=True)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"unknown norm '{kind}'; choose one of {NORMS}")


class GaussianNoise(nn.Module):
    """Adds N(0, std^2) noise in training mode; the identity in eval mode (and when std is 0)."""

    def __init__(self, std: float):
        super().__init__()
        self.std = std

    def forward(self, x):
        return x + self.std * torch.randn_like(x) if self.training and self.std > 0 else x

    def extra_repr(self) -> str:
        return f"std={self.std}"


def pack_images(x: torch.Tensor, pack: int) -> torch.Tensor:
    """PacGAN: stack each run of ``pack`` images along the channels, (B, C, H, W) -> (B / pack, pack * C, H, W)."""
    return x.reshape(x.shape[0] // pack, -1, *x.shape[2:]) if pack > 1 else x


def maybe_spectral_norm(layer: nn.Module, enabled: bool) -> nn.Module:
    return nn.utils.parametrizations.spectral_norm(layer) if enabled else layer


def dcgan_init(module: nn.Module) -> None:
    """Radford et al.: conv weights ~ N(0, 0.02), norm scales ~ N(1, 0.02), biases 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d, nn.GroupNorm, nn.InstanceNorm2d)) and module.affine:
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


@dataclass(frozen=True)
class PowerOfTwoSizes:
    """The square image sizes a conv pyramid supports: powers of two from ``minimum`` up."""

    minimum: int

    def accepts(self, size: int) -> bool:
        return size >= self.minimum and size & (size - 1) == 0

    def fit(self, size: int) -> int:
        """The smallest supported size not below ``size`` (28 -> 32), so nothing is thrown away."""
        fitted = self.minimum
        while fitted < size:
            fitted *= 2
        return fitted

    def nearest(self, size: int) -> list[int]:
        """The supported sizes on either side of ``size`` (30 -> [16, 32])."""
        above = self.fit(size)
        return [above // 2, above] if above // 2 >= self.minimum else [above]

    def __str__(self) -> str:
        return f"a power-of-two image size >= {self.minimum}"


@dataclass(frozen=True)
class MultipleSizes:
    """The square image sizes a net with fixed stride-2 stages takes: multiples of ``step`` from ``minimum``."""

    step: int
    minimum: int

    def accepts(self, size: int) -> bool:
        return size >= self.minimum and size % self.step == 0

    def fit(self, size: int) -> int:
        return max(self.minimum, -(-size // self.step) * self.step)

    def nearest(self, size: int) -> list[int]:
        above = self.fit(size)
        return [above - self.step, above] if above - self.step >= self.minimum else [above]

    def __str__(self) -> str:
        return f"an image size that is a multiple of {self.step}, >= {self.minimum}"


ImageSizes = Union[PowerOfTwoSizes, MultipleSizes]


class ExpandChannels(nn.Module):
    """Grey images repeated to ``channels`` channels; images that already have them pass unchanged
    (a colour-domain network fed a grey source image, as PixelDA's task classifier is)."""

    def __init__(self, channels: int):
        super().__init__()
        self.channels = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.expand(-1, self.channels, -1, -1) if x.shape[1] == 1 else x

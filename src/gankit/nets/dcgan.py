"""The DCGAN architecture (Radford et al. 2016) for any power-of-two image size >= 8.

G: z -> 4x4 by a transposed conv, then stride-2 transposed convs that halve the
channels and double the size, BatchNorm + ReLU in between, tanh out.
D: the mirror image with strided convs, LeakyReLU(0.2), no BatchNorm on the
first layer, no hidden fully connected layer, a 4x4 conv to the logit.
At 64x64 with width 64 this is the paper's network (512-256-128-64 channels).
"""
from __future__ import annotations

import math
from typing import Sequence

from torch import Tensor, nn

from gankit.nets.blocks import PowerOfTwoSizes, dcgan_init, maybe_spectral_norm, norm_layer, pack_images

SIZES = PowerOfTwoSizes(8)  # stride-2 stages between 4x4 and the image


def _stride2_layers(image_size: int) -> int:
    if not SIZES.accepts(image_size):
        raise ValueError(f"DCGAN nets need {SIZES}, not {image_size}")
    return int(math.log2(image_size)) - 2


class DCGANGenerator(nn.Module):
    def __init__(self, z_dim: int, shape: Sequence[int], width: int = 64, norm: str = "batch"):
        super().__init__()
        channels, size = shape[0], shape[-1]
        n_up = _stride2_layers(size)
        hidden = [width * 2 ** i for i in reversed(range(n_up))]  # e.g. 256, 128, 64 at 32x32
        layers: list[nn.Module] = [nn.Unflatten(1, (z_dim, 1, 1)),
                                   nn.ConvTranspose2d(z_dim, hidden[0], 4, 1, 0, bias=False),
                                   norm_layer(norm, hidden[0]), nn.ReLU()]
        for c_in, c_out in zip(hidden, hidden[1:]):
            layers += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False), norm_layer(norm, c_out), nn.ReLU()]
        layers += [nn.ConvTranspose2d(hidden[-1], channels, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.apply(dcgan_init)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


class DCGANDiscriminator(nn.Module):
    """Image -> ``out_dim`` raw logits per sample.

    ``features(x)`` is the flattened last feature map (``feature_dim`` numbers per
    sample) and ``logits(features)`` the 4x4 conv head on it, so models can put
    heads of their own (a class projection, InfoGAN's Q) on the same trunk.
    ``pack`` > 1 stacks that many images along channels (PacGAN).
    """

    def __init__(self, shape: Sequence[int], width: int = 64, out_dim: int = 1, norm: str = "batch",
                 spectral_norm: bool = False, pack: int = 1):
        super().__init__()
        channels, size = shape[0], shape[-1]
        n_down = _stride2_layers(size)
        hidden = [width * 2 ** i for i in range(n_down)]  # e.g. 64, 128, 256 at 32x32
        sn = lambda layer: maybe_spectral_norm(layer, spectral_norm)  # noqa: E731
        layers: list[nn.Module] = [sn(nn.Conv2d(channels * pack, hidden[0], 4, 2, 1)), nn.LeakyReLU(0.2)]
        for c_in, c_out in zip(hidden, hidden[1:]):
            layers += [sn(nn.Conv2d(c_in, c_out, 4, 2, 1, bias=norm == "none")), norm_layer(norm, c_out),
                       nn.LeakyReLU(0.2)]
        self.trunk = nn.Sequential(*layers)
        self.head = sn(nn.Conv2d(hidden[-1], out_dim, 4, 1, 0))
        self.pack, self.out_dim = pack, out_dim
        self.feature_dim = hidden[-1] * 16
        self.apply(dcgan_init)

    def _packed(self, x: Tensor) -> Tensor:
        return pack_images(x, self.pack)

    def features(self, x: Tensor) -> Tensor:
        return self.trunk(self._packed(x)).flatten(1)

    def logits(self, features: Tensor) -> Tensor:
        logits = self.head(features.view(features.shape[0], -1, 4, 4)).flatten(1)
        return logits.squeeze(1) if self.out_dim == 1 else logits

    def forward(self, x: Tensor) -> Tensor:
        return self.logits(self.features(x))

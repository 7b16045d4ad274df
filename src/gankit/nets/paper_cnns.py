"""Two papers' image networks: the SNGAN paper's "standard CNN" and BEGAN's ELU autoencoder.

SNGAN (Miyato et al. 2018, table 3), with base width w (64 in the paper) and an
image side s divisible by 8:
  G: z -> FC to 8w x s/8 x s/8 -> three 4x4 stride-2 up-convs (4w, 2w, w) with
     BatchNorm + ReLU -> 3x3 conv to the image, tanh.
  D: 3x3 conv w, 4x4 stride-2 conv w, 3x3 conv 2w, 4x4 stride-2 conv 2w, 3x3 conv 4w,
     4x4 stride-2 conv 4w, 3x3 conv 8w, all LeakyReLU(0.1) -> FC to the logit.

BEGAN (Berthelot et al. 2017, figure 1), with n filters and an image side s = 8 * 2^k:
  decoder / G: code -> FC to n x 8 x 8 -> blocks of two 3x3 convs + ELU, each but the last
     followed by 2x nearest-neighbour upsampling -> 3x3 conv to the image (tanh for G,
     linear for the autoencoder's reconstruction).
  encoder: 3x3 conv n, ELU -> blocks of two 3x3 convs (+ ELU) at i*n filters and a stride-2
     3x3 conv to (i+1)*n, down to 8 x 8 -> FC to the code.
"""
from __future__ import annotations

import math
from typing import Sequence

from torch import Tensor, nn

from gankit.nets.blocks import (MultipleSizes, PowerOfTwoSizes, dcgan_init, maybe_spectral_norm, norm_layer,
                                pack_images)

SNGAN_SIZES = MultipleSizes(8, 8)
BEGAN_SIZES = PowerOfTwoSizes(8)


class SNGANGenerator(nn.Module):
    def __init__(self, z_dim: int, shape: Sequence[int], width: int = 64, norm: str = "batch"):
        super().__init__()
        side = shape[-1] // 8
        channels = [8 * width, 4 * width, 2 * width, width]
        layers: list[nn.Module] = [nn.Linear(z_dim, channels[0] * side * side),
                                   nn.Unflatten(1, (channels[0], side, side))]
        for c_in, c_out in zip(channels, channels[1:]):
            layers += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1), norm_layer(norm, c_out), nn.ReLU()]
        self.net = nn.Sequential(*layers, nn.Conv2d(width, shape[0], 3, 1, 1), nn.Tanh())
        self.apply(dcgan_init)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


class SNGANDiscriminator(nn.Module):
    """``features(x)`` is the last conv layer flattened; ``logits`` the FC head (as the other D nets)."""

    def __init__(self, shape: Sequence[int], width: int = 64, out_dim: int = 1, norm: str = "none",
                 spectral_norm: bool = False, pack: int = 1):
        super().__init__()
        sn = lambda layer: maybe_spectral_norm(layer, spectral_norm)  # noqa: E731
        plan = [(3, 1, width), (4, 2, width), (3, 1, 2 * width), (4, 2, 2 * width), (3, 1, 4 * width),
                (4, 2, 4 * width), (3, 1, 8 * width)]  # (kernel, stride, channels out)
        layers: list[nn.Module] = []
        c_in = shape[0] * pack
        for i, (kernel, stride, c_out) in enumerate(plan):
            layers += [sn(nn.Conv2d(c_in, c_out, kernel, stride, 1)), norm_layer(norm if i else "none", c_out),
                       nn.LeakyReLU(0.1)]
            c_in = c_out
        self.trunk = nn.Sequential(*layers, nn.Flatten())
        self.feature_dim = 8 * width * (shape[-1] // 8) ** 2
        self.head = sn(nn.Linear(self.feature_dim, out_dim))
        self.pack, self.out_dim = pack, out_dim
        self.apply(dcgan_init)

    def features(self, x: Tensor) -> Tensor:
        return self.trunk(pack_images(x, self.pack))

    def logits(self, features: Tensor) -> Tensor:
        logits = self.head(features)
        return logits.squeeze(1) if self.out_dim == 1 else logits

    def forward(self, x: Tensor) -> Tensor:
        return self.logits(self.features(x))


def _began_blocks(side: int) -> int:
    """How many resolution steps lie between 8 x 8 and the image side."""
    if not BEGAN_SIZES.accepts(side):
        raise ValueError(f"BEGAN nets need {BEGAN_SIZES}, not {side}")
    return int(math.log2(side // 8))


class BEGANDecoder(nn.Module):
    def __init__(self, code_dim: int, shape: Sequence[int], n: int = 64, tanh: bool = True):
        super().__init__()
        steps = _began_blocks(shape[-1])
        layers: list[nn.Module] = [nn.Linear(code_dim, n * 64), nn.Unflatten(1, (n, 8, 8))]
        for i in range(steps + 1):
            layers += [nn.Conv2d(n, n, 3, 1, 1), nn.ELU(), nn.Conv2d(n, n, 3, 1, 1), nn.ELU()]
            if i < steps:
                layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
        layers.append(nn.Conv2d(n, shape[0], 3, 1, 1))
        self.net = nn.Sequential(*layers, *([nn.Tanh()] if tanh else []))

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


class BEGANAutoencoder(nn.Module):
    """``forward(x)`` returns ``(reconstruction, code)``, like gankit.nets.autoencoder's nets."""

    def __init__(self, shape: Sequence[int], n: int = 64, code_dim: int = 64, spectral_norm: bool = False,
                 pack: int = 1):
        super().__init__()
        steps = _began_blocks(shape[-1])
        sn = lambda layer: maybe_spectral_norm(layer, spectral_norm)  # noqa: E731
        self.pack_size = pack
        layers: list[nn.Module] = [sn(nn.Conv2d(shape[0] * pack, n, 3, 1, 1)), nn.ELU()]
        for i in range(1, steps + 2):
            layers += [sn(nn.Conv2d(i * n, i * n, 3, 1, 1)), nn.ELU(),
                       sn(nn.Conv2d(i * n, i * n, 3, 1, 1)), nn.ELU()]
            if i <= steps:
                layers += [sn(nn.Conv2d(i * n, (i + 1) * n, 3, 2, 1)), nn.ELU()]
        self.encoder = nn.Sequential(*layers, nn.Flatten(), sn(nn.Linear((steps + 1) * n * 64, code_dim)))
        self.decoder = BEGANDecoder(code_dim, (shape[0] * pack, *shape[1:]), n, tanh=False)

    def pack(self, x: Tensor) -> Tensor:
        return pack_images(x, self.pack_size)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        code = self.encoder(self.pack(x))
        return self.decoder(code), code

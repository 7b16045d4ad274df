"""The MNIST networks of the InfoGAN paper (Chen et al. 2016, appendix C.1), also ClusterGAN's.

With ``width`` w (``options.width``, 64 for the paper's sizes) the layers have 16w, 2w and w units.

G: latent -> FC 1024 -> FC 128 x s/4 x s/4 -> 4x4 up-conv 64 (stride 2) -> 4x4 up-conv to the image,
BatchNorm + ReLU after every hidden layer, tanh out.
D: 4x4 conv 64 (stride 2) -> 4x4 conv 128 (stride 2) -> FC 1024, LeakyReLU(0.2), BatchNorm (when
``norm`` is 'batch') after the second conv and the FC layer; ``features(x)`` is the FC 1024 layer,
``logits(features)`` a linear head. Image sides must be multiples of 4 (28 for MNIST).
"""
from __future__ import annotations

from typing import Sequence

from torch import Tensor, nn

from gankit.nets.blocks import MultipleSizes, dcgan_init, maybe_spectral_norm, norm_layer

SIZES = MultipleSizes(4, 8)  # two stride-2 stages above an FC layer


def check_size(size: int) -> int:
    if not SIZES.accepts(size):
        raise ValueError(f"the fc-conv nets need {SIZES}, not {size}")
    return size // 4


class FCConvGenerator(nn.Module):
    def __init__(self, z_dim: int, shape: Sequence[int], norm: str = "batch", hidden: int = 1024, channels: int = 128):
        super().__init__()
        side = check_size(shape[-1])
        self.net = nn.Sequential(
            nn.Linear(z_dim, hidden), norm_layer(norm, hidden, conv=False), nn.ReLU(),
            nn.Linear(hidden, channels * side * side), norm_layer(norm, channels * side * side, conv=False), nn.ReLU(),
            nn.Unflatten(1, (channels, side, side)),
            nn.ConvTranspose2d(channels, channels // 2, 4, 2, 1), norm_layer(norm, channels // 2), nn.ReLU(),
            nn.ConvTranspose2d(channels // 2, shape[0], 4, 2, 1), nn.Tanh())
        self.apply(dcgan_init)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


class FCConvDiscriminator(nn.Module):
    def __init__(self, shape: Sequence[int], out_dim: int = 1, norm: str = "batch", spectral_norm: bool = False,
                 hidden: int = 1024, channels: int = 128):
        super().__init__()
        side = check_size(shape[-1])
        sn = lambda layer: maybe_spectral_norm(layer, spectral_norm)  # noqa: E731
        self.trunk = nn.Sequential(
            sn(nn.Conv2d(shape[0], channels // 2, 4, 2, 1)), nn.LeakyReLU(0.2),
            sn(nn.Conv2d(channels // 2, channels, 4, 2, 1)), norm_layer(norm, channels), nn.LeakyReLU(0.2),
            nn.Flatten(), sn(nn.Linear(channels * side * side, hidden)), norm_layer(norm, hidden, conv=False),
            nn.LeakyReLU(0.2))
        self.head = sn(nn.Linear(hidden, out_dim))
        self.out_dim, self.feature_dim = out_dim, hidden
        self.apply(dcgan_init)

    def features(self, x: Tensor) -> Tensor:
        return self.trunk(x)

    def logits(self, features: Tensor) -> Tensor:
        logits = self.head(features)
        return logits.squeeze(1) if self.out_dim == 1 else logits

    def forward(self, x: Tensor) -> Tensor:
        return self.logits(self.features(x))

"""Fully connected generator and discriminator, for 2-D points and flattened images."""
from __future__ import annotations

import math
from typing import Sequence

from torch import Tensor, nn

from gankit.nets.blocks import GaussianNoise, maybe_spectral_norm, norm_layer


class MLPGenerator(nn.Module):
    """z -> hidden ReLU layers (optionally batch-normed) -> sample of ``shape``.

    Images get a tanh output to match their [-1, 1] range; 2-D points are unbounded.
    """

    def __init__(self, z_dim: int, shape: Sequence[int], hidden: Sequence[int] = (256, 256, 256),
                 norm: str = "none"):
        super().__init__()
        self.shape = tuple(shape)
        layers: list[nn.Module] = []
        width = z_dim
        for out in hidden:
            layers += [nn.Linear(width, out), norm_layer(norm, out, conv=False), nn.ReLU()]
            width = out
        layers.append(nn.Linear(width, math.prod(self.shape)))
        if len(self.shape) > 1:
            layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z).view(z.shape[0], *self.shape)


class MLPDiscriminator(nn.Module):
    """Flattened input -> hidden LeakyReLU(0.2) layers -> ``out_dim`` raw logits per sample.

    ``in_shape`` is one sample's shape; ``pack`` > 1 judges that many samples at once
    (PacGAN), so the input batch must be a multiple of ``pack``. ``features(x)`` is the
    last hidden layer (``feature_dim`` numbers) and ``logits(features)`` the output layer.
    ``noise=(a, b)`` adds Gaussian noise of std a to the input and b to every hidden layer's
    input while training, and ``weight_norm`` reparametrises every layer as g * v / ||v||
    (Salimans & Kingma 2016): the Improved-GAN discriminator.
    """

    def __init__(self, in_shape: Sequence[int], hidden: Sequence[int] = (256, 256, 256), out_dim: int = 1,
                 norm: str = "none", spectral_norm: bool = False, pack: int = 1,
                 noise: tuple[float, float] = (0.0, 0.0), weight_norm: bool = False):
        super().__init__()
        self.pack = pack
        noisy = lambda std, layer: nn.Sequential(GaussianNoise(std), layer) if std > 0 else layer  # noqa: E731

        def linear(a: int, b: int) -> nn.Module:
            layer = maybe_spectral_norm(nn.Linear(a, b), spectral_norm)
            return nn.utils.parametrizations.weight_norm(layer) if weight_norm else layer

        layers: list[nn.Module] = []
        width = math.prod(in_shape) * pack
        for i, out in enumerate(hidden):
            layers += [noisy(noise[min(i, 1)], linear(width, out)), norm_layer(norm, out, conv=False),
                       nn.LeakyReLU(0.2)]
            width = out
        layers.append(noisy(noise[1], linear(width, out_dim)))
        self.net = nn.Sequential(*layers)
        self.out_dim, self.feature_dim = out_dim, width

    def features(self, x: Tensor) -> Tensor:
        return self.net[:-1](x.reshape(x.shape[0] // self.pack, -1))

    def logits(self, features: Tensor) -> Tensor:
        logits = self.net[-1](features)
        return logits.squeeze(1) if self.out_dim == 1 else logits

    def forward(self, x: Tensor) -> Tensor:
        return self.logits(self.features(x))

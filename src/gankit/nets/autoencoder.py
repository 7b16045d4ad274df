"""Autoencoder discriminators for the energy-based models (EBGAN, BEGAN).

``forward(x)`` returns ``(reconstruction, code)``: the reconstruction has the
shape of ``pack(x)`` (the input, with ``pack`` samples stacked per row as in
PacGAN) and ``code`` is the encoder's embedding (EBGAN's pull-away term uses
it). The reconstruction is linear (no output activation): the energy is a
distance, not a probability.

MLP: for 2-D points (and flattened images). Conv: strided convs down to 4x4,
a linear code, and the mirror image with transposed convs back up.
"""
from __future__ import annotations

import math
from typing import Sequence

from torch import Tensor, nn

from gankit.data import DataSpec
from gankit.nets import resolve_arch
from gankit.nets.blocks import dcgan_init, maybe_spectral_norm, norm_layer, pack_images
from gankit.nets.dcgan import _stride2_layers
from gankit.nets.paper_cnns import BEGANAutoencoder

ACTIVATIONS = {"leaky": lambda: nn.LeakyReLU(0.2), "elu": nn.ELU, "relu": nn.ReLU}


class MLPAutoencoder(nn.Module):
    def __init__(self, in_shape: Sequence[int], hidden: Sequence[int] = (256, 256), code_dim: int = 32,
                 act: str = "leaky", norm: str = "none", spectral_norm: bool = False, pack: int = 1):
        super().__init__()
        self.pack_size = pack
        sizes = [math.prod(in_shape) * pack, *hidden]
        sn = lambda layer: maybe_spectral_norm(layer, spectral_norm)  # noqa: E731
        encoder: list[nn.Module] = []
        for a, b in zip(sizes, sizes[1:]):
            encoder += [sn(nn.Linear(a, b)), norm_layer(norm, b, conv=False), ACTIVATIONS[act]()]
        self.encoder = nn.Sequential(*encoder, sn(nn.Linear(sizes[-1], code_dim)))
        decoder: list[nn.Module] = []
        for a, b in zip([code_dim, *reversed(sizes[1:])], reversed(sizes[1:])):
            decoder += [sn(nn.Linear(a, b)), norm_layer(norm, b, conv=False), ACTIVATIONS[act]()]
        self.decoder = nn.Sequential(*decoder, sn(nn.Linear(sizes[1], sizes[0])))

    def pack(self, x: Tensor) -> Tensor:
        return x.reshape(x.shape[0] // self.pack_size, -1)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        code = self.encoder(self.pack(x))
        return self.decoder(code), code


class ConvAutoencoder(nn.Module):
    def __init__(self, shape: Sequence[int], width: int = 64, code_dim: int = 64, act: str = "leaky",
                 norm: str = "none", spectral_norm: bool = False, pack: int = 1):
        super().__init__()
        channels, size = shape[0], shape[-1]
        hidden = [width * 2 ** i for i in range(_stride2_layers(size))]  # e.g. 64, 128, 256 at 32x32
        sn = lambda layer: maybe_spectral_norm(layer, spectral_norm)  # noqa: E731
        self.pack_size = pack
        encoder: list[nn.Module] = [sn(nn.Conv2d(channels * pack, hidden[0], 4, 2, 1)), ACTIVATIONS[act]()]
        for c_in, c_out in zip(hidden, hidden[1:]):
            encoder += [sn(nn.Conv2d(c_in, c_out, 4, 2, 1)), norm_layer(norm, c_out), ACTIVATIONS[act]()]
        self.encoder = nn.Sequential(*encoder, nn.Flatten(), sn(nn.Linear(hidden[-1] * 16, code_dim)))
        decoder: list[nn.Module] = [sn(nn.Linear(code_dim, hidden[-1] * 16)), ACTIVATIONS[act](),
                                    nn.Unflatten(1, (hidden[-1], 4, 4))]
        for c_in, c_out in zip(reversed(hidden), list(reversed(hidden))[1:]):
            decoder += [sn(nn.ConvTranspose2d(c_in, c_out, 4, 2, 1)), norm_layer(norm, c_out), ACTIVATIONS[act]()]
        self.decoder = nn.Sequential(*decoder, sn(nn.ConvTranspose2d(hidden[0], channels * pack, 4, 2, 1)))
        self.apply(dcgan_init)

    def pack(self, x: Tensor) -> Tensor:
        return pack_images(x, self.pack_size)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        code = self.encoder(self.pack(x))
        return self.decoder(code), code


def build_autoencoder(arch: str, data: DataSpec, width: int, code_dim: int, act: str = "leaky",
                      norm: str = "none", spectral_norm: bool = False, pack: int = 1) -> nn.Module:
    """The data decides: conv autoencoder for images (arch 'dcgan'/'auto'), MLP for 2-D points."""
    arch = resolve_arch(arch, data)
    if arch == "began":
        return BEGANAutoencoder(data.shape, width, code_dim, spectral_norm, pack)
    if arch not in ("dcgan", "mlp"):
        raise ValueError(f"the autoencoder D comes in dcgan, began and mlp forms, not {arch}")
    if arch == "dcgan":
        return ConvAutoencoder(data.shape, width, code_dim, act, norm, spectral_norm, pack)
    hidden = (width, width) if not data.is_image else (width * 4, width * 2)
    return MLPAutoencoder(data.shape, hidden, code_dim, act, "none" if norm == "batch" else norm,
                          spectral_norm, pack)

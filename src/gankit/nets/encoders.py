"""BiGAN's joint discriminator D(x, z): is (image, code) a pair from the encoder or from the generator?"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from gankit.nets.blocks import dcgan_init
from gankit.nets.dcgan import DCGANDiscriminator


class JointDiscriminator(nn.Module):
    """x through a DCGAN discriminator with ``hidden`` outputs, z through two LeakyReLU(0.2) layers of
    ``hidden`` units, and the two embeddings side by side through two more layers to one raw logit per pair."""

    def __init__(self, shape: Sequence[int], z_dim: int, width: int = 64, hidden: int = 512, dropout: float = 0.0):
        super().__init__()
        self.embed_x = nn.Sequential(DCGANDiscriminator(shape, width, out_dim=hidden), nn.LeakyReLU(0.2),
                                     nn.Dropout(dropout))
        self.embed_z = nn.Sequential(nn.Linear(z_dim, hidden), nn.LeakyReLU(0.2), nn.Dropout(dropout),
                                     nn.Linear(hidden, hidden), nn.LeakyReLU(0.2), nn.Dropout(dropout))
        self.joint = nn.Sequential(nn.Linear(2 * hidden, hidden), nn.LeakyReLU(0.2), nn.Dropout(dropout),
                                   nn.Linear(hidden, 1))
        self.embed_z.apply(dcgan_init)
        self.joint.apply(dcgan_init)

    def forward(self, x: Tensor, z: Tensor) -> Tensor:
        return self.joint(torch.cat([self.embed_x(x), self.embed_z(z)], 1)).squeeze(1)

"""Discriminators that judge an image together with its class label: D(x, y).

``concat``: the one-hot label enters with the image (Mirza & Osindero 2014):
as K constant feature maps beside the image's channels for a conv D, as K
extra inputs for an MLP D. ``projection`` (Miyato & Koyama 2018): the label's
embedding is dotted with D's last features and added to its unconditional
logit, D(x, y) = psi(phi(x)) + <embed(y), phi(x)>.
"""
from __future__ import annotations

import dataclasses
import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gankit.data import DataSpec
from gankit.nets import build_discriminator, resolve_arch
from gankit.nets.blocks import maybe_spectral_norm


def one_hot(labels: Tensor, num_classes: int) -> Tensor:
    return F.one_hot(labels, num_classes).float()


class ConcatLabelDiscriminator(nn.Module):
    def __init__(self, arch: str, data: DataSpec, num_classes: int, width: int, norm: str, spectral_norm: bool):
        super().__init__()
        self.conv = resolve_arch(arch, data) != "mlp"
        channels, *size = data.shape
        shape = (channels + num_classes, *size) if self.conv else (math.prod(data.shape) + num_classes,)
        self.net = build_discriminator(arch, dataclasses.replace(data, shape=shape), width, norm=norm,
                                       spectral_norm=spectral_norm)
        self.num_classes = num_classes

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        code = one_hot(y, self.num_classes).to(x.dtype)
        if self.conv:
            return self.net(torch.cat([x, code[:, :, None, None].expand(-1, -1, *x.shape[2:])], 1))
        return self.net(torch.cat([x.flatten(1), code], 1))


class ProjectionDiscriminator(nn.Module):
    def __init__(self, arch: str, data: DataSpec, num_classes: int, width: int, norm: str, spectral_norm: bool):
        super().__init__()
        self.net = build_discriminator(arch, data, width, norm=norm, spectral_norm=spectral_norm)
        embed = nn.Embedding(num_classes, self.net.feature_dim)
        nn.init.normal_(embed.weight, 0.0, 0.02)
        self.embed = maybe_spectral_norm(embed, spectral_norm)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        features = self.net.features(x)
        return self.net.logits(features) + (self.embed(y) * features).sum(1)


def build_label_discriminator(conditioning: str, arch: str, data: DataSpec, num_classes: int, width: int,
                              norm: str = "batch", spectral_norm: bool = False) -> nn.Module:
    cls = {"concat": ConcatLabelDiscriminator, "projection": ProjectionDiscriminator}[conditioning]
    return cls(arch, data, num_classes, width, norm, spectral_norm)

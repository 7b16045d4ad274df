"""EBGAN (Zhao et al. 2017, "Energy-based Generative Adversarial Network").

D is an autoencoder whose reconstruction error is an energy, low on data and
high elsewhere, instead of a classifier. With E(v) = mean squared error of
v's reconstruction (one value per sample) and S the encoder's codes of a
fake batch:

    D minimises  E E(x) + E [m - E(G(z))]+        (hinge per sample, margin m)
    G minimises  E E(G(z)) + 0.1 PT(S)
    PT(S) = 1/(n(n-1)) sum_{i != j} cos(S_i, S_j)^2   (pull-away term)

The pull-away term pushes the codes of different fakes apart and so
discourages mode collapse. The margin lives on the energy's scale: per-element
mean squared error, so m = 1 suits data in [-1, 1] and the 2-D benchmarks.
Adam 2e-4, betas (0.5, 0.999). The reference script applies the hinge to the
batch mean instead of per sample, and its pull-away term averages the raw
cosines instead of their squares; its D also uses BatchNorm1d(32, 0.8).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch.nn.functional as F

from gankit.errors import GankitError
from gankit.models.unconditional.base import UnconditionalGAN, UnconditionalOptions
from gankit.nets.autoencoder import build_autoencoder
from gankit.registry import register


@dataclass
class EBGANOptions(UnconditionalOptions):
    margin: float = 1.0
    pt_weight: float = 0.1
    code_dim: int = 32

    def validate(self) -> None:
        super().validate()
        if self.margin <= 0 or self.code_dim < 1:
            raise GankitError("options.margin must be positive and options.code_dim at least 1.")


def pull_away(codes):
    """Mean over i != j of the squared cosine similarity between rows of ``codes``."""
    n = codes.shape[0]
    if n < 2:
        return codes.sum() * 0
    unit = F.normalize(codes, dim=1)
    cos2 = (unit @ unit.t()).pow(2)
    return (cos2.sum() - cos2.diagonal().sum()) / (n * (n - 1))


@register
class EBGAN(UnconditionalGAN):
    name = "ebgan"
    summary = "autoencoder D whose reconstruction error is an energy; margin hinge and pull-away term"
    paper = "Zhao et al. 2017, Energy-based Generative Adversarial Network"
    Options = EBGANOptions

    def build_discriminator(self):
        o = self.options
        return build_autoencoder(self.arch, self.data, self.width, o.code_dim, "leaky", o.d_norm,
                                 o.spectral_norm, o.pack)

    def energy(self, v):
        reconstruction, code = self.D(v)
        return (reconstruction - self.D.pack(v)).pow(2).flatten(1).mean(1), code

    def score(self, x):
        return self.energy(x)[0]

    def d_objective(self, real, fake):
        (real_energy, _), (fake_energy, _) = self.energy(real), self.energy(fake)
        loss = real_energy.mean() + F.relu(self.options.margin - fake_energy).mean()
        return loss, {"real_energy": real_energy.detach().mean(), "fake_energy": fake_energy.detach().mean()}

    def g_objective(self, real, fake):
        fake_energy, codes = self.energy(fake)
        pt = pull_away(codes)
        return fake_energy.mean() + self.options.pt_weight * pt, {"pull_away": pt.detach()}

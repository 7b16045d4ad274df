"""BEGAN (Berthelot et al. 2017, "BEGAN: Boundary Equilibrium Generative Adversarial Networks").

Like ebgan, D is an autoencoder, here with an L1 energy L(v) = mean |v - D(v)|.
Instead of a margin, a proportional controller k in [0, 1] keeps the
generator and the discriminator in balance, E L(G(z)) = gamma E L(x):

    D minimises  L(x) - k L(G(z))
    G minimises  L(G(z))
    after every D step:  k <- clip(k + lambda_k (gamma L(x) - L(G(z))), 0, 1)

gamma = 0.5 (diversity ratio: lower means sharper but less diverse samples),
lambda_k = 0.001, k starts at 0 and is a buffer, so it is checkpointed. The
autoencoder's code is a bottleneck: 64 numbers for images, 1 for 2-D points
(a code as wide as the data would let D reconstruct everything). The
convergence measure M = L(x) + |gamma L(x) - L(G(z))| is logged as D/M.
D uses ELU and no BatchNorm (G has no BatchNorm either), Adam 1e-4. The paper
also halves the learning rate when M stalls; the trainer's fixed-interval
version of that is ``train.lr_decay=step`` (times ``lr_step_factor`` every
``lr_step_every`` steps). The reference script uses gamma 0.75, ReLU and
BatchNorm1d(32, 0.8) in D, and crashes on ``.data[0]`` of a 0-d tensor.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
from torch import Tensor

from gankit.errors import GankitError
from gankit.models.unconditional.base import Norm, UnconditionalGAN, UnconditionalOptions
from gankit.nets.autoencoder import build_autoencoder
from gankit.registry import register


@dataclass
class BEGANOptions(UnconditionalOptions):
    g_norm: Norm = "none"
    d_norm: Norm = "none"
    lr: float = 1e-4
    gamma: float = 0.5
    lambda_k: float = 0.001
    code_dim: Optional[int] = None  # None: 64 for images, 1 for 2-D points (below the data's dimension)

    def validate(self) -> None:
        super().validate()
        if not 0 < self.gamma <= 1 or self.lambda_k < 0 or (self.code_dim or 1) < 1:
            raise GankitError("options.gamma must be in (0, 1], options.lambda_k non-negative and "
                              "options.code_dim at least 1.")


@register
class BEGAN(UnconditionalGAN):
    name = "began"
    summary = "autoencoder D with L1 energy; k controller balances D and G (gamma=0.5)"
    paper = "Berthelot et al. 2017, BEGAN: Boundary Equilibrium Generative Adversarial Networks"
    Options = BEGANOptions

    def __init__(self, options, data):
        super().__init__(options, data)
        self.register_buffer("k", torch.zeros(()))
        self._balance: Optional[Tensor] = None  # gamma L(x) - L(G(z)) of the last D step

    def build_discriminator(self):
        o = self.options
        code_dim = o.code_dim or (64 if self.data.is_image else 1)
        return build_autoencoder(self.arch, self.data, self.width, code_dim, "elu", o.d_norm,
                                 o.spectral_norm, o.pack)

    def energy(self, v):
        reconstruction, _ = self.D(v)
        return (reconstruction - self.D.pack(v)).abs().flatten(1).mean(1)

    def score(self, x):
        return self.energy(x)

    def d_objective(self, real, fake):
        real_energy, fake_energy = self.energy(real).mean(), self.energy(fake).mean()
        self._balance = (self.options.gamma * real_energy - fake_energy).detach()
        return real_energy - self.k * fake_energy, {"real_energy": real_energy.detach(),
                                                    "fake_energy": fake_energy.detach(), "k": self.k.clone(),
                                                    "M": real_energy.detach() + self._balance.abs()}

    def g_objective(self, real, fake):
        return self.energy(fake).mean(), {}

    def after_step(self, player):
        if player == "D" and self._balance is not None:
            k = self.k.item() + self.options.lambda_k * self._balance.item()
            self.k.fill_(min(max(k, 0.0), 1.0))
            self._balance = None

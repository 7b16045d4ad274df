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
For images the networks are the paper's (gankit.nets.paper_cnns): an ELU
autoencoder of 3x3 convs down to 8x8 and a 64-number code, and a G with the
decoder's architecture; no BatchNorm anywhere, Adam 1e-4. As in the
paper, every learning rate is halved when M stalls: when a running mean of M
(an exponential average over about 100 rounds) has not reached a new minimum
for ``stall_rounds`` rounds (``stall_rounds=0`` turns this off; the trainer's
fixed-interval ``train.lr_decay=step`` is the alternative). The reference script uses gamma 0.75, ReLU and
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
    stall_rounds: int = 2000  # halve the rates when M's running mean has no new minimum this long (0: never)
    stall_factor: float = 0.5

    def validate(self) -> None:
        super().validate()
        if not 0 < self.gamma <= 1 or self.lambda_k < 0 or (self.code_dim or 1) < 1:
            raise GankitError("options.gamma must be in (0, 1], options.lambda_k non-negative and "
                              "options.code_dim at least 1.")
        if self.stall_rounds < 0 or not 0 < self.stall_factor <= 1:
            raise GankitError("options.stall_rounds must be non-negative and options.stall_factor in (0, 1].")


@register
class BEGAN(UnconditionalGAN):
    name = "began"
    summary = "autoencoder D with L1 energy; k controller balances D and G (gamma=0.5)"
    paper = "Berthelot et al. 2017, BEGAN: Boundary Equilibrium Generative Adversarial Networks"
    Options = BEGANOptions
    image_nets = "began"

    M_SMOOTHING = 0.01  # weight of the newest M in its running mean (about 100 rounds)

    def __init__(self, options, data):
        super().__init__(options, data)
        self.register_buffer("k", torch.zeros(()))
        # The stall schedule's state: running mean and best of M, rounds since the best, the rate multiplier.
        self.register_buffer("m_mean", torch.full((), float("nan")))
        self.register_buffer("m_best", torch.full((), float("inf")))
        self.register_buffer("rounds_since_best", torch.zeros((), dtype=torch.long))
        self.register_buffer("rate", torch.ones(()))
        self._balance: Optional[Tensor] = None  # gamma L(x) - L(G(z)) of the last D step
        self._m: Optional[Tensor] = None  # M of the last D step

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
        self._m = real_energy.detach() + self._balance.abs()
        return real_energy - self.k * fake_energy, {"real_energy": real_energy.detach(),
                                                    "fake_energy": fake_energy.detach(), "k": self.k.clone(),
                                                    "M": self._m, "lr_scale": self.rate.clone()}

    def g_objective(self, real, fake):
        return self.energy(fake).mean(), {}

    def after_step(self, player):
        if player == "D" and self._balance is not None:
            k = self.k.item() + self.options.lambda_k * self._balance.item()
            self.k.fill_(min(max(k, 0.0), 1.0))
            self.observe_convergence(self._m.item())
            self._balance = self._m = None

    def observe_convergence(self, m: float) -> None:
        """Feed one round's M to the stall schedule; halves ``rate`` after ``stall_rounds`` without progress."""
        mean = m if torch.isnan(self.m_mean) else (1 - self.M_SMOOTHING) * self.m_mean.item() + self.M_SMOOTHING * m
        self.m_mean.fill_(mean)
        if mean < self.m_best.item():
            self.m_best.fill_(mean)
            self.rounds_since_best.zero_()
            return
        self.rounds_since_best += 1
        if self.options.stall_rounds and self.rounds_since_best.item() >= self.options.stall_rounds:
            self.rate.mul_(self.options.stall_factor)
            self.m_best.fill_(mean)  # measure progress from here on
            self.rounds_since_best.zero_()

    def lr_scale(self):
        return self.rate.item()

"""WGAN-div (Wu et al. 2018, "Wasserstein Divergence for GANs").

wgan-gp with the two-sided penalty (||grad|| - 1)^2 replaced by the
Wasserstein-divergence term k E ||grad D(x^)||^p, which needs no Lipschitz
constraint (and so no target norm of 1):

    D minimises  E D(G(z)) - E D(x) + k E ||grad D(x^)||_2^p,   k = 2, p = 6
    G minimises  -E D(G(z))

x^ are points drawn between the real and the fake samples: per-sample random
interpolates, as wgan-gp draws them. n_critic 5, Adam 1e-4 with betas (0, 0.9),
no BatchNorm in the critic. The reference script instead penalises the
gradients at the real and at the fake points separately, each with weight k/2,
and does not detach the fakes in the critic's step.
"""
from __future__ import annotations

from dataclasses import dataclass

from gankit.losses import wgan_div_penalty
from gankit.models.unconditional.wgan_gp import WGANGP, PenalisedCriticOptions
from gankit.registry import register


@dataclass
class WGANDivOptions(PenalisedCriticOptions):
    div_k: float = 2.0
    div_p: float = 6.0


@register
class WGANDiv(WGANGP):
    name = "wgan-div"
    summary = "Wasserstein critic with the k E||grad||^p divergence penalty (k=2, p=6)"
    paper = "Wu et al. 2018, Wasserstein Divergence for GANs"
    Options = WGANDivOptions

    def d_penalty(self, real, fake):
        o = self.options
        return {"div": self.penalty(wgan_div_penalty, real, fake, k=o.div_k, p=o.div_p)}

"""DRAGAN (Kodali et al. 2017, "On Convergence and Stability of GANs").

gan's losses, plus a gradient penalty in a noisy neighbourhood of the real
data only, where the authors observe the sharp gradients that come with mode
collapse:

    D minimises  BCE(D(x), 1) + BCE(D(G(z)), 0) + 10 E (||grad D(x_p)||_2 - 1)^2
    G minimises  BCE(D(G(z)), 1)
    x_p: a per-sample random point between x and x + 0.5 std(x) U[0, 1)

Adam 2e-4, betas (0.5, 0.999); no BatchNorm in the penalised D. The reference
script backpropagates only the penalty into D (its GAN loss is computed but
never backpropagated), draws the interpolation weight per pixel, and takes the
gradient norm over the channels only (a per-pixel norm, not one per sample).

With k = 1 the real data are never stationary points of D (the penalty keeps
||grad D|| near 1 there), so G is pushed on even when it sits on the data and
the game need not settle (Mescheder et al. 2018 show the same for WGAN-GP's
k = 1). bench/probes/dragan_k1.py measures it on ring8: with k = 1, D's
gradient norm at the real points stays at 0.94-1.01 and the samples stay
0.14-0.69 off the ring (modes of std 0.01) whatever the perturbations' size
(0.01 to 0.5 std) or shape (uniform or Gaussian) and the learning rate (1e-3
or 1e-4); with ``gp_center=0`` (a zero-centred penalty, as in R1) it falls to
0.00 and G settles on all 8 modes.
"""
from __future__ import annotations

from dataclasses import dataclass

from gankit.losses import dragan_penalty
from gankit.models.unconditional.gan import GAN, GANOptions
from gankit.models.unconditional.base import Nets, Norm
from gankit.registry import register


@dataclass
class DRAGANOptions(GANOptions):
    nets: Nets = "auto"
    d_norm: Norm = "none"
    gp_weight: float = 10.0
    noise_scale: float = 0.5  # perturbations reach noise_scale * std(x)
    gp_center: float = 1.0  # k, the gradient norm the penalty asks for (the paper's k = 1; 0 is zero-centred)


@register
class DRAGAN(GAN):
    name = "dragan"
    summary = "GAN with a gradient penalty in a noisy ball around the real data"
    paper = "Kodali et al. 2017, On Convergence and Stability of GANs"
    Options = DRAGANOptions

    def input_gradients(self):
        return True

    def d_penalty(self, real, fake):
        o = self.options
        return {"gp": o.gp_weight * self.penalty(dragan_penalty, real, noise_scale=o.noise_scale,
                                                 center=o.gp_center)}

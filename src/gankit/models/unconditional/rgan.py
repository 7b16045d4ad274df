"""Relativistic GANs (Jolicoeur-Martineau 2019, "The relativistic discriminator:
a key element missing from standard GAN").

D no longer judges a sample on its own but how much more real it looks than
the other side: with C the critic's raw output,

    standard  (RSGAN)   D: E f1(C(x) - C(x~))                      G: E f1(C(x~) - C(x))
    average   (RaGAN)   D: E f1(C(x) - E C(x~)) + E f2(C(x~) - E C(x))
                        G: E f1(C(x~) - E C(x)) + E f2(C(x) - E C(x~))

where (f1, f2) come from the base loss: sgan (softplus(-t), softplus(t), i.e.
BCE with target 1 / 0), lsgan ((t-1)^2, (t+1)^2) or hinge. Unlike gan, G's
loss depends on the real data too, so G gets a gradient from both terms.
rgan defaults to RaLSGAN (kind=average, base=lsgan); rsgan and ragan are the
RSGAN and RaSGAN presets. Adam 2e-4, betas (0.5, 0.999), one D step per round.
Versions of the reference script overwrite the relativistic G loss with the
standard one, and the current one halves both losses.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gankit.losses import relativistic_loss
from gankit.models.unconditional.base import UnconditionalGAN, UnconditionalOptions
from gankit.registry import register


@dataclass
class RGANOptions(UnconditionalOptions):
    kind: Literal["standard", "average"] = "average"
    base: Literal["sgan", "lsgan", "hinge"] = "lsgan"


@register
class RGAN(UnconditionalGAN):
    name = "rgan"
    summary = "relativistic D: is real data more real than fake? (standard/average, sgan/lsgan/hinge)"
    paper = "Jolicoeur-Martineau 2019, The relativistic discriminator: a key element missing from standard GAN"
    Options = RGANOptions

    def d_objective(self, real, fake):
        real_out, fake_out = self.D(real), self.D(fake)
        loss = relativistic_loss(real_out, fake_out, self.options.kind, self.options.base)
        return loss, {"real_logit": real_out.detach().mean(), "fake_logit": fake_out.detach().mean()}

    def g_objective(self, real, fake):
        return relativistic_loss(self.D(fake), self.D(real).detach(), self.options.kind, self.options.base), {}


@dataclass
class RSGANOptions(RGANOptions):
    kind: Literal["standard", "average"] = "standard"
    base: Literal["sgan", "lsgan", "hinge"] = "sgan"


@register
class RSGAN(RGAN):
    name = "rsgan"
    summary = "relativistic standard GAN (rgan with kind=standard, base=sgan)"
    Options = RSGANOptions


@dataclass
class RaSGANOptions(RGANOptions):
    base: Literal["sgan", "lsgan", "hinge"] = "sgan"


@register
class RaSGAN(RGAN):
    name = "ragan"
    summary = "relativistic average GAN (rgan with kind=average, base=sgan)"
    Options = RaSGANOptions

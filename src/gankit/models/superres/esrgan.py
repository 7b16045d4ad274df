"""ESRGAN (Wang et al. 2018): RRDB G without BN, a relativistic-average D, a perceptual loss on VGG19
activations before their ReLU, and network interpolation between the PSNR and GAN weights.

G is RRDBNet, started from a trained ``rrdb`` run (``options.pretrained``); D is
the VGG-style discriminator. With x an HR crop, x_f = G(LR(x)) its upscaled
bicubic, antialiased, 8-bit downscaling, C the raw logit and phi VGG19's 4th
convolution of the 5th block before its ReLU, relativistic-average D (RaGAN)
compares each image with the other side's mean logit:

    D minimises  -E log sigma(C(x) - E C(x_f)) - E log(1 - sigma(C(x_f) - E C(x)))
    G minimises  E |phi(x_f) - phi(x)|  +  5e-3 L_G^Ra  +  1e-2 E |x_f - x|
    L_G^Ra     = -E log(1 - sigma(C(x) - E C(x_f))) - E log sigma(C(x_f) - E C(x))

G's adversarial loss has both terms: it gains from the real images' logits too.
Adam 1e-4, betas (0.9, 0.99), the rate halved at 50k, 100k, 200k and 300k of
400k updates in the paper, batch 16 of 128x128 HR crops. Network interpolation
(``PerceptualGANModel.interpolate``, ``gankit upscale --alpha``) blends the
weights, (1 - alpha) PSNR + alpha GAN; the paper shows alpha 0.8.
Deviations: the paper's D has five stride-2 stages for 128x128 crops and 100
hidden units; gankit's is SRGAN's (four stages, 16 x d_width hidden units), for
any crop side that is a multiple of 16. Without VGG19 weights
``options.content=auto`` trains on the pixel L1 instead of the perceptual loss
(``content=photo`` takes it on gankit's own photo feature network,
gankit.nets.photo_features), and the evaluation says so. The widely copied reference script drops the real
term of G's relativistic loss and feeds G's [-1, 1] outputs to an
ImageNet-normalised VGG.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F

from gankit.losses import relativistic_loss
from gankit.models.base import Player
from gankit.models.superres.base import PerceptualGANModel, PerceptualGANOptions
from gankit.models.superres.rrdb import RRDBOptions
from gankit.nets.perceptual import VGGLayer
from gankit.nets.superres import RRDBNet, VGGStyleDiscriminator
from gankit.registry import register


@dataclass
class ESRGANOptions(RRDBOptions, PerceptualGANOptions):
    vgg_layer: VGGLayer = "conv5_4"
    adversarial_weight: float = 5e-3
    l1_weight: float = 1e-2
    lr: float = 1e-4
    pixel_content: ClassVar[str] = "l1"


@register
class ESRGAN(PerceptualGANModel):
    name = "esrgan"
    summary = ("RRDB G from an rrdb run, relativistic-average D; perceptual (VGG19, else pixel L1) "
               "+ 5e-3 RaGAN (both terms) + 1e-2 L1")
    paper = "Wang et al. 2018, ESRGAN: Enhanced Super-Resolution Generative Adversarial Networks"
    Options = ESRGANOptions
    pretrained_from = "rrdb"

    def __init__(self, options, data):
        super().__init__(options, data)
        self.G = RRDBNet(self.channels, options.width, options.blocks, options.growth, options.scale)
        self.D = VGGStyleDiscriminator(self.channels, data.shape[-1], options.d_width)

    def players(self):
        return [Player("D", [self.D], self.d_loss, self.optim()), Player("G", [self.G], self.g_loss, self.optim())]

    def feature_distance(self, sr_features, hr_features):
        return F.l1_loss(sr_features, hr_features)

    def d_loss(self, batch):
        with torch.no_grad():
            sr = self.G(self.low_resolution(batch.x))
        loss = relativistic_loss(self.D(batch.x), self.D(sr), "average", "sgan")
        return loss, {"loss": loss.detach()}

    def g_loss(self, batch):
        o, hr = self.options, batch.x
        sr = self.G(self.low_resolution(hr))
        with torch.no_grad():
            real_logits = self.D(hr)
        adversarial = relativistic_loss(self.D(sr), real_logits, "average", "sgan")
        content, l1 = self.content_loss(sr, hr), F.l1_loss(sr, hr)
        loss = o.content_weight * content + o.adversarial_weight * adversarial + o.l1_weight * l1
        return loss, {"loss": loss.detach(), "content": content.detach(), "adversarial": adversarial.detach(),
                      "l1": l1.detach()}

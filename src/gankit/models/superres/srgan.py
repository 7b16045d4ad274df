"""SRGAN (Ledig et al. 2017): SRResNet sharpened by an adversarial loss and a content loss on deep
features instead of pixels.

G is SRResNet, started from a trained ``srresnet`` run (``options.pretrained``);
D is the VGG-style discriminator (eight 3x3 convolutions, BN, LeakyReLU, two
dense layers; gankit.nets.superres). With x an HR crop, LR(x) its bicubic,
antialiased, 8-bit downscaling and phi the VGG19 activations after the 4th
convolution of the 5th block (VGG54, ReLU applied):

    D minimises  BCE(D(x), 1) + BCE(D(G(LR(x))), 0)
    G minimises  E (phi(G(LR(x))) / 12.75 - phi(x) / 12.75)^2  +  1e-3 BCE(D(G(LR(x))), 1)

The 1/12.75 rescaling is the paper's, which brings the VGG loss to the MSE's
scale. Adam 1e-4, betas (0.9, 0.999), 10^5 updates at 1e-4 then 10^5 at 1e-5
in the paper, batch 16 of 96x96 HR crops. VGG19 needs ImageNet weights, which
cannot be downloaded here: without them ``options.content=auto`` trains on the
pixel MSE (the paper's SRGAN-MSE variant); ``content=photo`` compares the
activations of gankit's own photo feature network (gankit.nets.photo_features,
without the VGG rescaling: its channels come at unit standard deviation). The
evaluation names the content loss used. ``options.vgg_layer=relu2_2`` is the paper's VGG22 ablation.
The widely copied reference script feeds G's tanh outputs, in [-1, 1], to a VGG
that expects ImageNet-normalised [0, 1] images; here the normalisation happens
inside the loss.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from gankit.losses import d_loss_bce, g_loss_nonsaturating
from gankit.models.base import Player
from gankit.models.superres.base import PerceptualGANModel
from gankit.nets.superres import SRResNet, VGGStyleDiscriminator
from gankit.registry import register

VGG_RESCALE = 1 / 12.75


@register
class SRGAN(PerceptualGANModel):
    name = "srgan"
    summary = "SRResNet G from a srresnet run, VGG-style D; content loss (VGG54, else pixel MSE) + 1e-3 adversarial"
    paper = "Ledig et al. 2017, Photo-Realistic Single Image Super-Resolution Using a GAN"
    pretrained_from = "srresnet"

    def __init__(self, options, data):
        super().__init__(options, data)
        self.G = SRResNet(self.channels, options.width, options.blocks, options.scale)
        self.D = VGGStyleDiscriminator(self.channels, data.shape[-1], options.d_width)

    def players(self):
        return [Player("D", [self.D], self.d_loss, self.optim()), Player("G", [self.G], self.g_loss, self.optim())]

    def feature_distance(self, sr_features, hr_features):
        rescale = VGG_RESCALE if self.options.content == "vgg19" else 1.0
        return F.mse_loss(sr_features * rescale, hr_features * rescale)

    def d_loss(self, batch):
        with torch.no_grad():
            sr = self.G(self.low_resolution(batch.x))
        loss = d_loss_bce(self.D(batch.x), self.D(sr))
        return loss, {"loss": loss.detach()}

    def g_loss(self, batch):
        o, hr = self.options, batch.x
        sr = self.G(self.low_resolution(hr))
        content, adversarial = self.content_loss(sr, hr), g_loss_nonsaturating(self.D(sr))
        loss = o.content_weight * content + o.adversarial_weight * adversarial
        return loss, {"loss": loss.detach(), "content": content.detach(), "adversarial": adversarial.detach()}

"""Context encoder (Pathak et al. 2016): an encoder-decoder fills a hole from its context, pulled toward
the truth by a masked L2 loss and toward realism by a small adversarial one.

G encodes the context (the image with its hole filled by the data mean) with
strided 4x4 convolutions (BatchNorm, LeakyReLU 0.2) down to a ``bottleneck``-number
code, and decodes it with DCGAN's transposed convolutions (BatchNorm, ReLU,
tanh) into an image (the base's ``encoder_decoder``), whose hole is kept:
x^ = (1 - m) x + m G(context). D is a DCGAN discriminator. With m the hole:

    D minimises  BCE(D(x), 1) + BCE(D(x^), 0)
    G minimises  0.999 sum m (G(context) - x)^2 / sum m  +  0.001 BCE(D(x^), 1)

Adam 2e-4, beta1 0.5; by default a centre hole covering a quarter of the image
(the paper's central region), the same mask generator at training and test time.
Deviations from the paper: G predicts the whole image rather than the centre
alone, and D judges the composite image rather than the predicted patch, so
the same networks serve any mask (random blocks, strokes) and D sees whether
the fill joins its context; the L2 term covers the hole without the paper's
10x-weighted overlap band. ``adversarial_weight=0`` drops D: the paper's L2-only
ablation, whose fills are blurrier. ``mask_channel=true`` also hands G the mask
as an input channel (not in the paper; it tells G where scattered holes are).
The widely copied reference script trains on random blocks but tests on the
centre, so its test holes are not the ones it learned to fill.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from gankit.data.masks import composite
from gankit.errors import GankitError
from gankit.losses import ADVERSARIAL_LOSSES, masked_l2
from gankit.models.base import Player
from gankit.models.inpainting.base import InpaintingModel, InpaintingOptions
from gankit.models.options import LossName
from gankit.nets.dcgan import DCGANDiscriminator
from gankit.registry import register


@dataclass
class ContextEncoderOptions(InpaintingOptions):
    reconstruction_weight: float = 0.999
    adversarial_weight: float = 0.001  # 0: no D, the L2-only ablation
    loss: LossName = "ns"
    bottleneck: int = 4000  # numbers in G's code (the paper's 4000)
    mask_channel: bool = False  # G also sees the mask as an input channel

    def validate(self) -> None:
        super().validate()
        if self.reconstruction_weight < 0 or self.adversarial_weight < 0 or self.bottleneck < 1:
            raise GankitError("options.reconstruction_weight and adversarial_weight must be non-negative and "
                              "options.bottleneck at least 1.")


@register
class ContextEncoder(InpaintingModel):
    name = "context-encoder"
    summary = "encoder-decoder G fills a hole from its context; 0.999 masked L2 + 0.001 adversarial"
    paper = "Pathak et al. 2016, Context Encoders: Feature Learning by Inpainting"
    Options = ContextEncoderOptions

    def __init__(self, options, data):
        super().__init__(options, data)
        self.G = self.encoder_decoder(options.bottleneck, extra_channels=int(options.mask_channel))
        if options.adversarial_weight > 0:
            self.D = DCGANDiscriminator(data.shape, options.width)

    def predict(self, context, mask):
        return self.G(torch.cat([context, mask], 1) if self.options.mask_channel else context)

    def players(self):
        generator = Player("G", [self.G], self.g_loss, self.optim())
        if self.options.adversarial_weight == 0:
            return [generator]
        return [Player("D", [self.D], self.d_loss, self.optim()), generator]

    def d_loss(self, batch):
        with torch.no_grad():
            filled = self.inpaint(batch.x, self.draw_masks(len(batch)))
        d_loss, _ = ADVERSARIAL_LOSSES[self.options.loss]
        loss = d_loss(self.D(batch.x), self.D(filled))
        return loss, {"loss": loss.detach()}

    def g_loss(self, batch):
        o, mask = self.options, self.draw_masks(len(batch))
        prediction = self.predict(self.context(batch.x, mask), mask)
        reconstruction = masked_l2(prediction, batch.x, mask)
        loss, logs = o.reconstruction_weight * reconstruction, {"masked_l2": reconstruction.detach()}
        if o.adversarial_weight > 0:
            _, g_loss = ADVERSARIAL_LOSSES[o.loss]
            adversarial = g_loss(self.D(composite(batch.x, prediction, mask)))
            loss = loss + o.adversarial_weight * adversarial
            logs["adversarial"] = adversarial.detach()
        return loss, {"loss": loss.detach(), **logs}

"""StarGAN (Choi et al. 2018): one generator for every domain, told the target domain as an input.

The domains are the value combinations of the images' named attributes
(mnist-colour: 5 digit colours x 2 backgrounds). G(x, c) translates image x to
target attributes c, given as one-hot planes stacked onto the image; D scores
realness patch by patch (D_src) and classifies the attributes (D_cls).
With c' the attributes x has and c a target:

    D minimises  E D_src(G(x, c)) - E D_src(x) + lambda_gp GP + lambda_cls L_cls(D_cls(x), c')
    G minimises  -E D_src(G(x, c)) + lambda_cls L_cls(D_cls(G(x, c)), c)
                 + lambda_rec E |G(G(x, c), c') - x|

L_cls is the cross-entropy of each attribute's logits, summed over the
attributes (gankit.losses.attribute_classification); GP is WGAN-GP's penalty
on D_src at random interpolates of x and G(x, c). D learns to classify on real
images only, so G can only satisfy it by producing the target attributes; the
reconstruction term (G translating back to c') makes it keep everything else,
here the digit.

Recipe: lambda_cls = 1, lambda_rec = 10, lambda_gp = 10; five D steps per G
step; Adam 1e-4, betas (0.5, 0.999), decayed linearly in the second half
(train.lr_decay). Targets are the real attribute vectors of the batch in a
random order, so every target is a combination that occurs in the data. G is
the ResNet generator (gankit.nets.translation; 3x3 stride-2 convolutions where
the paper has 4x4), D the paper's PatchGAN with an attribute head
(``AttributeDiscriminator``).

One deliberate deviation: G uses batch norm, where the paper uses instance
norm. The target reaches G as constant planes; a convolution turns a constant
plane into a constant per channel, which instance norm, subtracting each
image's own channel means, removes again. The authors' G sees its target only
through the zero padding of its first convolution (the border, where the
plane stops being constant); with gankit's reflection padding it would not
see it at all (a test shows G's output changing with the target). Batch norm
subtracts means over the batch, whose images have different targets, so the
target survives everywhere. ``options.norm=instance`` gives the paper's choice.

The widely copied reference draws each target attribute as an independent
coin flip, which asks G for combinations no image has (two hair colours at
once on CelebA).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from gankit.errors import GankitError
from gankit.losses import (
    attribute_classification,
    d_loss_wasserstein,
    g_loss_wasserstein,
    gradient_penalty,
    paired_l1,
)
from gankit.models.base import Player
from gankit.models.translation.base import TranslationModel, TranslationNorm, TranslationOptions
from gankit.nets.translation import AttributeDiscriminator, ResnetGenerator
from gankit.registry import register


@dataclass
class StarGANOptions(TranslationOptions):
    lr: float = 1e-4
    blocks: int = 6  # residual blocks in G
    norm: TranslationNorm = "batch"  # G's (the critic has none); see the docstring for why not instance norm
    n_critic: int = 5  # D steps, each on a fresh batch, per G step
    cls_weight: float = 1.0  # lambda_cls
    rec_weight: float = 10.0  # lambda_rec
    gp_weight: float = 10.0  # lambda_gp

    def validate(self) -> None:
        super().validate()
        if self.blocks < 0 or self.n_critic < 1 or min(self.cls_weight, self.rec_weight, self.gp_weight) < 0:
            raise GankitError("options.blocks, cls_weight, rec_weight and gp_weight must be non-negative and "
                              "n_critic at least 1.")


@register
class StarGAN(TranslationModel):
    name = "stargan"
    summary = "one G(x, target attributes) for all domains; WGAN-GP D with an attribute classifier head; " \
              "classification + reconstruction terms"
    paper = "Choi et al. 2018, StarGAN: Unified Generative Adversarial Networks for Multi-Domain " \
            "Image-to-Image Translation"
    Options = StarGANOptions
    label_use = "attributes"
    translates_attributes = True

    def __init__(self, options, data):
        super().__init__(options, data)
        o = options
        self.sizes = tuple(len(values) for _, values in data.attributes)  # values per attribute
        codes = sum(self.sizes)
        self.G = ResnetGenerator(self.channels_a + codes, self.channels_a, o.width, o.blocks, o.norm)
        self.D = AttributeDiscriminator(self.channels_a, self.size, o.width, codes)

    def one_hot(self, attributes: Tensor) -> Tensor:
        """(N, A) value indices -> (N, sum sizes) float: each attribute's one-hot code in turn."""
        return torch.cat([F.one_hot(attributes[:, i], size) for i, size in enumerate(self.sizes)], 1).float()

    def translate(self, x, direction="a2b", target=None):
        """G(x, c): images ``x`` with the attributes ``target`` ((N, A) value indices)."""
        if target is None:
            raise ValueError("stargan translates to target attributes: pass target=(N, A) value indices")
        planes = self.one_hot(target).to(x.dtype)[:, :, None, None].expand(-1, -1, *x.shape[-2:])
        return self.G(torch.cat([x, planes], 1))

    def classify_attributes(self, x: Tensor) -> Tensor:
        """D_cls's reading of the images' attributes, as (N, A) value indices."""
        return torch.stack([group.argmax(1) for group in self.D(x)[1].split(list(self.sizes), 1)], 1)

    def players(self):
        return [Player("D", [self.D], self.d_loss, self.optim(), steps=self.options.n_critic),
                Player("G", [self.G], self.g_loss, self.optim())]

    @staticmethod
    def shuffled(attributes: Tensor) -> Tensor:
        """Targets: the batch's real attribute vectors in a random order."""
        return attributes[torch.randperm(len(attributes), device=attributes.device)]

    def d_loss(self, batch):
        o, x, original = self.options, batch.x, batch.attributes
        with torch.no_grad():
            fake = self.translate(x, target=self.shuffled(original))
        real_score, real_logits = self.D(x)
        adversarial = d_loss_wasserstein(real_score, self.D(fake)[0])
        penalty = gradient_penalty(lambda images: self.D(images)[0], x, fake)
        classification = attribute_classification(real_logits, original, self.sizes)
        loss = adversarial + o.gp_weight * penalty + o.cls_weight * classification
        return loss, {"loss": loss.detach(), "adversarial": adversarial.detach(), "gp": penalty.detach(),
                      "cls": classification.detach()}

    def g_loss(self, batch):
        o, x, original = self.options, batch.x, batch.attributes
        target = self.shuffled(original)
        fake = self.translate(x, target=target)
        score, logits = self.D(fake)
        adversarial = g_loss_wasserstein(score)
        classification = attribute_classification(logits, target, self.sizes)
        reconstruction = paired_l1(self.translate(fake, target=original), x)
        loss = adversarial + o.cls_weight * classification + o.rec_weight * reconstruction
        return loss, {"loss": loss.detach(), "adversarial": adversarial.detach(), "cls": classification.detach(),
                      "rec": reconstruction.detach()}

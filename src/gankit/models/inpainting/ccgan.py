"""Context-conditional GAN (Denton, Gross & Fergus 2016): semi-supervised learning by inpainting. G fills a
hole from its context; D, a classifier of the K classes plus "fake", learns from a handful of labelled
images, every unlabelled one, and G's filled images, and is the classifier the method trains.

With m the hole, x^ = (1 - m) x + m G(context(x, m)) the composite (the inpainting base), D's K class
logits l(.) and its real-vs-fake logit s(.) = logsumexp l(.) (the fake logit fixed at 0, sgan's head=k,
gankit.losses.realness):

    D minimises  CE(l(x_lab), y)                                labelled reals
                 + w [softplus(-s(x)) + softplus(s(x^))]         unlabelled reals (whole), composites
    G minimises  softplus(-s(x^))                                non-saturating: D takes x^ for real

D sees real images whole, never masked, so the only thing that tells a composite
from a real image is the fill and how it joins its context; learning to see
that is the regulariser of D's supervised term. Batches come from the
semi-supervised view (``label_use = "some"``, ``data.labels=100``): each carries
an unlabelled batch of every image and a labelled one from the balanced subset.
The paper removes patches at random places (``mask=block`` here, the default)
from STL-10 and PASCAL VOC images, with an encoder-decoder G and a VGG-style D;
its CC-GAN^2 variant also hands G a low-resolution copy of the image, which
gankit leaves out. gankit's defaults for small images: G the context encoder's
encoder-decoder (the base's ``encoder_decoder``, a ``bottleneck``-number code),
D a DCGAN discriminator with K outputs, Adam 2e-4 with beta1 0.5, w = 1 (the
plain sum of the supervised and adversarial terms). The widely copied
reference script neither composites (D judges G's whole output, context
included, so pixels outside the hole give fakes away and G must redraw them)
nor classifies (its D has a real/fake output only and no labelled term), so it
is not semi-supervised.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from gankit.data.masks import MaskKind
from gankit.errors import GankitError
from gankit.losses import g_loss_nonsaturating, realness, semi_supervised_d_loss
from gankit.models.base import Player
from gankit.models.inpainting.base import InpaintingModel, InpaintingOptions
from gankit.nets.dcgan import DCGANDiscriminator
from gankit.registry import register


@dataclass
class CCGANOptions(InpaintingOptions):
    mask: MaskKind = "block"  # holes at a random place, as the paper's
    bottleneck: int = 512  # numbers in G's code
    unsupervised_weight: float = 1.0  # w on the unlabelled-real and composite terms

    def validate(self) -> None:
        super().validate()
        if self.bottleneck < 1 or self.unsupervised_weight < 0:
            raise GankitError("options.bottleneck must be at least 1 and options.unsupervised_weight non-negative.")


@register
class CCGAN(InpaintingModel):
    name = "ccgan"
    summary = "G fills holes, D classifies K classes + fake on reals vs composites; data.labels labelled images"
    paper = "Denton, Gross & Fergus 2016, Semi-Supervised Learning with Context-Conditional GANs"
    Options = CCGANOptions
    label_use = "some"
    task_metrics = ("test_error",)

    def __init__(self, options, data):
        super().__init__(options, data)
        self.G = self.encoder_decoder(options.bottleneck)
        self.D = self.fresh_classifier()

    @property
    def num_labels(self) -> int:
        return self.data.num_classes

    def fresh_classifier(self) -> DCGANDiscriminator:
        """A newly initialised D (the supervised-only baseline trains one of these on the labels alone)."""
        return DCGANDiscriminator(self.data.shape, self.options.width, out_dim=self.num_labels)

    def classify(self, x):
        """D's K class logits."""
        return self.D(x)

    def predict(self, context, mask):
        return self.G(context)

    def players(self):
        return [Player("D", [self.D], self.d_loss, self.optim()), Player("G", [self.G], self.g_loss, self.optim())]

    def d_loss(self, batch):
        with torch.no_grad():
            filled = self.inpaint(batch.x, self.draw_masks(len(batch)))
        labelled = self.D(batch.labelled.x)
        supervised, unsupervised = semi_supervised_d_loss(labelled, batch.labelled.y, self.D(batch.x),
                                                          self.D(filled), self.num_labels)
        loss = supervised + self.options.unsupervised_weight * unsupervised
        return loss, {"loss": loss.detach(), "supervised": supervised.detach(), "unsupervised": unsupervised.detach(),
                      "labelled_acc": (labelled.argmax(1) == batch.labelled.y).float().mean()}

    def g_loss(self, batch):
        filled = self.inpaint(batch.x, self.draw_masks(len(batch)))
        loss = g_loss_nonsaturating(realness(self.D(filled), self.num_labels))
        return loss, {"loss": loss.detach()}

"""AC-GAN (Odena et al. 2017): D also classifies, and both players want the class to be recognisable.

D has one source logit s and K class logits c on a shared trunk:

    D minimises  BCE(s(x), 1) + BCE(s(G(z, y~)), 0) + CE(c(x), y) + CE(c(G(z, y~)), y~)
    G minimises  BCE(s(G(z, y~)), 1) + CE(c(G(z, y~)), y~)          (non-saturating source term)

with y the real labels and y~ drawn uniformly. G(z, y) takes the one-hot label
after the noise; D does not see the label, it predicts it. ``class_weight``
scales both class terms (1 in the paper); ``options.loss`` picks the source
pair. Adam 2e-4, beta1 0.5. The widely copied reference script puts a
Softmax in front of CrossEntropyLoss (a double softmax that flattens the
class gradient) and a Sigmoid in front of BCELoss.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from gankit.errors import GankitError
from gankit.losses import ADVERSARIAL_LOSSES, auxiliary_class_loss
from gankit.models.conditional.base import ClassAwareGAN, ClassAwareOptions
from gankit.registry import register


@dataclass
class ACGANOptions(ClassAwareOptions):
    class_weight: float = 1.0  # weight of the class terms in both losses

    def validate(self) -> None:
        super().validate()
        if self.class_weight < 0:
            raise GankitError(f"options.class_weight must be non-negative, not {self.class_weight}.")


@register
class ACGAN(ClassAwareGAN):
    name = "acgan"
    family = "conditional"
    summary = "G(z, y); D predicts real/fake and the class, both players minimise the class loss"
    paper = "Odena et al. 2017, Conditional Image Synthesis with Auxiliary Classifier GANs"
    Options = ACGANOptions
    label_use = "all"
    sample_labels = "class"
    task_metrics = ("class_accuracy",)

    def __init__(self, options, data):
        super().__init__(options, data)
        self.G = self.generator(self.num_labels)
        self.D = self.discriminator(out_dim=1 + self.num_labels)

    def judge(self, x):
        """(source logit, class logits) per image."""
        logits = self.D(x)
        return logits[:, 0], logits[:, 1:]

    def d_loss(self, batch):
        y_fake = self.random_labels(len(batch))
        with torch.no_grad():
            fake = self.sample(len(batch), y_fake)
        real = self.augment(batch.x)
        (real_src, real_cls), (fake_src, fake_cls) = self.judge(real), self.judge(self.augment(fake))
        d_loss, _ = ADVERSARIAL_LOSSES[self.options.loss]
        source_loss = d_loss(real_src, fake_src)
        class_loss = auxiliary_class_loss(real_cls, batch.y, fake_cls, y_fake)
        logs = {"source": source_loss.detach(), "class": class_loss.detach(),
                "real_class_acc": (real_cls.argmax(1) == batch.y).float().mean()}
        return self.total(source_loss + self.options.class_weight * class_loss, logs,
                          self.r1(lambda x: self.judge(x)[0], real))

    def g_loss(self, batch):
        y_fake = self.random_labels(len(batch))
        source, classes = self.judge(self.augment(self.sample(len(batch), y_fake)))
        _, g_loss = ADVERSARIAL_LOSSES[self.options.loss]
        class_loss = F.cross_entropy(classes, y_fake)
        return self.total(g_loss(source) + self.options.class_weight * class_loss, {"class": class_loss.detach()}, {})

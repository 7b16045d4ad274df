"""Conditional GAN (Mirza & Osindero 2014): both players see the class label.

    D minimises  BCE(D(x, y), 1) + BCE(D(G(z, y~), y~), 0)
    G minimises  BCE(D(G(z, y~), y~), 1)                 (non-saturating)
with y the real images' labels and y~ drawn uniformly over the classes.

G(z, y) takes the one-hot label after the noise. D(x, y) takes it as K
constant feature maps beside the image (``conditioning=concat``, the paper's
input concatenation carried over to conv nets) or, with
``conditioning=projection`` (Miyato & Koyama 2018), dots a learned class
embedding with its last features and adds that to its logit. The paper used
maxout MLPs with dropout; here the networks are the DCGAN ones (``nets=dcgan``
for images, ``nets=mlp`` for the MLP version), Adam 2e-4 with beta1 0.5. The
widely copied reference script embeds the label in G and D with a learned
embedding and trains on BCE of a sigmoid output, and uses BatchNorm1d(C, 0.8)
(eps=0.8 by accident) in G.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from gankit.losses import ADVERSARIAL_LOSSES
from gankit.models.conditional.base import ClassAwareGAN, ClassAwareOptions
from gankit.nets.conditional import build_label_discriminator
from gankit.registry import register


@dataclass
class CGANOptions(ClassAwareOptions):
    conditioning: Literal["concat", "projection"] = "concat"


@register
class CGAN(ClassAwareGAN):
    name = "cgan"
    family = "conditional"
    summary = "G(z, y) and D(x, y): both players see the class label (concat or projection D)"
    paper = "Mirza & Osindero 2014, Conditional Generative Adversarial Nets"
    Options = CGANOptions
    label_use = "all"
    sample_labels = "class"
    task_metrics = ("class_accuracy",)

    def __init__(self, options, data):
        super().__init__(options, data)
        o = options
        self.G = self.generator(self.num_labels)
        self.D = build_label_discriminator(o.conditioning, self.arch, data, self.num_labels, self.width,
                                           norm=o.d_norm, spectral_norm=o.spectral_norm)

    def d_loss(self, batch):
        y_fake = self.random_labels(len(batch))
        with torch.no_grad():
            fake = self.sample(len(batch), y_fake)
        real = self.augment(batch.x)
        real_logits, fake_logits = self.D(real, batch.y), self.D(self.augment(fake), y_fake)
        d_loss, _ = ADVERSARIAL_LOSSES[self.options.loss]
        logs = {"real_logit": real_logits.detach().mean(), "fake_logit": fake_logits.detach().mean()}
        return self.total(d_loss(real_logits, fake_logits), logs, self.r1(lambda x: self.D(x, batch.y), real))

    def g_loss(self, batch):
        y_fake = self.random_labels(len(batch))
        _, g_loss = ADVERSARIAL_LOSSES[self.options.loss]
        return self.total(g_loss(self.D(self.augment(self.sample(len(batch), y_fake)), y_fake)), {}, {})

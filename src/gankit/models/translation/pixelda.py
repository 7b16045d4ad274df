"""PixelDA (Bousmalis et al. 2017): unsupervised domain adaptation in pixel space.

Labelled source images x_s (MNIST) and unlabelled target images x_t (MNIST-M).
G restyles a source image, given noise z, to look drawn from the target domain;
D tells real target images from adapted ones; a task classifier T learns the
source labels on adapted and source images alike. T is the product: it never
sees a target label, and is scored by its accuracy on the target test set.

    min_{G,T} max_D   alpha L_d(D, G) + beta L_t(G, T) + gamma L_c(G)

    L_d = E log D(x_t) + E log(1 - D(G(x_s, z)))                 (G: the non-saturating form)
    L_t = E [ CE(T(G(x_s, z)), y_s) + CE(T(x_s), y_s) ]
    L_c = masked pairwise MSE between G(x_s, z) and x_s on the source's foreground

G (gankit.nets.translation.NoiseAdaptingGenerator) is a full-resolution
residual network fed the image and z ~ U[-1, 1]^10 as an extra plane; D adds
Gaussian noise and dropout to every layer. The paper's MNIST -> MNIST-M
weights are alpha = 0.013, beta = 0.011, and no content term (gamma = 0: it
used L_c where rendered objects come with masks); Adam 1e-3. G and T step
together as one player on the same batch, after D. With Adam only the ratio
alpha / beta matters for G, since T sees L_t alone and D sees L_d alone.

T here is gankit's digit classifier architecture (the one behind the shipped
MNIST-M classifier, which gets 96.7% with target labels), widened to the
target's channels; a grey source image is repeated to three channels. ``gankit
eval`` reports T's accuracy on the target test images; ``source_only=true``
trains T alone on the source images, the paper's baseline, for the same number
of steps. The widely copied reference puts a softmax in
front of its cross-entropy and reports as "accuracy" a running mean over
training batches; neither happens here.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gankit.classifier import Classifier
from gankit.errors import GankitError
from gankit.losses import ADVERSARIAL_LOSSES, pairwise_mse, source_and_adapted_ce
from gankit.models.base import Player
from gankit.models.options import LossName
from gankit.models.translation.base import TranslationModel, TranslationNorm, TranslationOptions
from gankit.nets.blocks import ExpandChannels
from gankit.nets.translation import NoiseAdaptingGenerator, NoisyDiscriminator
from gankit.registry import register


@dataclass
class PixelDAOptions(TranslationOptions):
    lr: float = 1e-3
    adversarial_weight: float = 0.013  # alpha
    task_weight: float = 0.011  # beta
    content_weight: float = 0.0  # gamma
    z_dim: int = 10
    blocks: int = 6  # residual blocks in G
    norm: TranslationNorm = "batch"
    d_noise: float = 0.2  # std of the Gaussian noise D adds to its input and every layer
    d_dropout: float = 0.1
    loss: LossName = "ns"
    # The paper's baseline: T alone, trained on the labelled source images (no G, no D, no adaptation).
    source_only: bool = False

    def validate(self) -> None:
        super().validate()
        if min(self.adversarial_weight, self.task_weight, self.content_weight, self.d_noise) < 0 \
                or self.z_dim < 1 or self.blocks < 0 or not 0 <= self.d_dropout < 1:
            raise GankitError("options.adversarial_weight, task_weight, content_weight and d_noise must be "
                              "non-negative, z_dim at least 1, blocks non-negative and d_dropout in [0, 1).")
        if self.task_weight == 0:
            raise GankitError("options.task_weight=0 leaves the task classifier T untrained; PixelDA needs it "
                              "positive.")


@register
class PixelDA(TranslationModel):
    name = "pixelda"
    summary = "G(x_s, z) restyles labelled source images as the target domain; D target vs adapted; " \
              "classifier T learns on adapted + source images"
    paper = "Bousmalis et al. 2017, Unsupervised Pixel-Level Domain Adaptation with Generative Adversarial Networks"
    Options = PixelDAOptions
    label_use = "source"
    task_metrics = ("target_accuracy",)

    def __init__(self, options, data):
        super().__init__(options, data)
        if self.channels_a not in (1, self.channels_b):
            raise ValueError(f"T reads source images as target images, so the source must be grey or have the "
                             f"target's {self.channels_b} channels, not {self.channels_a}")
        o = options
        # T classifies target-domain images and reads grey source images as well (repeated to colour).
        self.T = nn.Sequential(ExpandChannels(self.channels_b),
                               Classifier(self.size, num_classes=data.num_classes, in_channels=self.channels_b))
        if not o.source_only:
            self.G = NoiseAdaptingGenerator(self.channels_a, self.channels_b, self.size, o.z_dim, o.width, o.blocks,
                                            o.norm)
            self.D = NoisyDiscriminator(self.channels_b, self.size, o.width, o.norm, o.d_noise, o.d_dropout)

    def classify(self, x: Tensor) -> Tensor:
        """T's class logits."""
        return self.T(x)

    def translate(self, x, direction="a2b"):
        """G(x, z): x adapted to the target domain, with fresh noise z ~ U[-1, 1]^z_dim."""
        z = torch.rand(x.shape[0], self.options.z_dim, device=x.device) * 2 - 1
        return self.G(x, z)

    def directions(self):
        return () if self.options.source_only else ("a2b",)

    def players(self):
        if self.options.source_only:
            return [Player("T", [self.T], self.source_only_loss, self.optim())]
        return [Player("D", [self.D], self.d_loss, self.optim()),
                Player("G", [self.G, self.T], self.g_loss, self.optim())]

    def source_only_loss(self, batch):
        loss = F.cross_entropy(self.T(batch.x), batch.y)
        return loss, {"loss": loss.detach()}

    def d_loss(self, batch):
        with torch.no_grad():
            adapted = self.translate(batch.x)
        d_loss, _ = ADVERSARIAL_LOSSES[self.options.loss]
        loss = self.options.adversarial_weight * d_loss(self.D(batch.x_b), self.D(adapted))
        return loss, {"loss": loss.detach()}

    def g_loss(self, batch):
        o, source = self.options, batch.x
        adapted = self.translate(source)
        _, g_loss = ADVERSARIAL_LOSSES[o.loss]
        adversarial = g_loss(self.D(adapted))
        # One pass of T over both halves: its BatchNorm sees adapted and source images together.
        logits_adapted, logits_source = self.T(torch.cat([adapted, source.expand_as(adapted)])).chunk(2)
        task = source_and_adapted_ce(logits_adapted, logits_source, batch.y)
        loss = o.adversarial_weight * adversarial + o.task_weight * task
        logs = {"adversarial": adversarial.detach(), "task": task.detach()}
        if o.content_weight > 0:
            content = pairwise_mse(adapted, source.expand_as(adapted), mask=source > 0)
            loss = loss + o.content_weight * content
            logs["content"] = content.detach()
        return loss, {"loss": loss.detach(), **logs}

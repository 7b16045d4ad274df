"""Semi-supervised GAN (Odena 2016; Salimans et al. 2016, "Improved Techniques for Training GANs").

D is a classifier over the K classes plus "fake". With K class logits l(x) and a
fake logit l_f (fixed at 0 with ``head=k``, Salimans et al.'s form, or learned
with ``head=k+1``, Odena's), D's real-vs-fake logit is s(x) = logsumexp(l(x)) - l_f(x),
so that p(real | x) = sigmoid(s(x)) = Z / (Z + exp l_f) with Z = sum_k exp l_k(x). Then

    D minimises  CE(l(x_lab), y)                                   labelled reals, N of them
                 + w [softplus(-s(x)) + softplus(s(G(z)))]          unlabelled reals, fakes
    G minimises  || mean_x f(x) - mean_z f(G(z)) ||^2               feature matching (default)
             or  softplus(-s(G(z)))                                 non-saturating, feature_matching=false

f is D's last hidden layer and w = 1/2 (the weighting of the Improved-GAN code).
The labelled term is -log p(y | x, real): the class given that x is real.
Every batch carries an unlabelled batch and a labelled one of the same size
drawn from the ``data.labels`` labelled images (gankit.data.labels). Recipe
(Improved GAN, MNIST): an MLP D of 1000-500-250-250-250 units with Gaussian
noise on its inputs (std 0.3 of the [0, 1] range, so 0.6 here) and hidden
layers (0.5), an MLP G of 500-500 units with BatchNorm, Adam 3e-3 with beta1
0.5, batches of 100. The widely copied reference script trains D on all 60,000
labels (so it is not semi-supervised), and puts a Softmax in front of
CrossEntropyLoss.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from gankit.errors import GankitError
from gankit.losses import feature_matching, realness, semi_supervised_d_loss
from gankit.models.conditional.base import NO_PACKING, ClassAwareGAN
from gankit.models.options import BaseOptions, Nets, Norm
from gankit.nets import build_generator
from gankit.nets.mlp import MLPDiscriminator, MLPGenerator
from gankit.registry import register


@dataclass
class SGANOptions(BaseOptions):
    NOT_OFFERED: ClassVar[dict[str, str]] = {
        "pack": NO_PACKING, "loss": "sgan's D loss is the semi-supervised one above (feature_matching picks G's)"}
    z_dim: int = 100
    nets: Nets = "mlp"
    width: int = 250  # MLP: D 4w-2w-w-w-w, G 2w-2w (the paper's 1000-500-250-250-250 and 500-500)
    d_norm: Norm = "none"
    lr: float = 3e-3
    head: Literal["k", "k+1"] = "k"  # K class logits (fake logit 0) or K + 1 with a learned fake logit
    feature_matching: bool = True  # G matches D's mean features; false: non-saturating G loss
    unsupervised_weight: float = 0.5  # w on the unlabelled-real and fake terms
    input_noise: float = 0.6  # MLP D: std of the Gaussian noise on its input ([-1, 1] images)
    hidden_noise: float = 0.5  # MLP D: std of the noise on each hidden layer
    weight_norm: bool = True  # MLP D: weight normalisation on every layer

    def validate(self) -> None:
        super().validate()
        if min(self.unsupervised_weight, self.input_noise, self.hidden_noise) < 0:
            raise GankitError("options.unsupervised_weight, input_noise and hidden_noise must be non-negative.")


@register
class SGAN(ClassAwareGAN):
    name = "sgan"
    family = "semi-supervised"
    summary = "D classifies K classes + fake; trains on data.labels labelled images plus all unlabelled ones"
    paper = "Odena 2016 (Semi-Supervised Learning with GANs); Salimans et al. 2016 (Improved Techniques)"
    Options = SGANOptions
    label_use = "some"
    task_metrics = ("test_error",)

    def __init__(self, options, data):
        super().__init__(options, data)
        self.G = self.build_generator()
        self.D = self.fresh_classifier()

    def build_generator(self):
        o = self.options
        if self.arch == "mlp":
            return MLPGenerator(o.z_dim, self.data.shape, hidden=(2 * o.width, 2 * o.width), norm=o.g_norm)
        return build_generator(self.arch, self.data, o.z_dim, o.width, norm=o.g_norm)

    def fresh_classifier(self):
        """A newly initialised D (the supervised-only baseline trains one of these on the labels alone)."""
        o = self.options
        outputs = self.num_labels + (o.head == "k+1")
        if self.arch == "mlp":
            w = o.width
            return MLPDiscriminator(self.data.shape, hidden=(4 * w, 2 * w, w, w, w), out_dim=outputs,
                                    norm=o.d_norm, spectral_norm=o.spectral_norm,
                                    noise=(o.input_noise, o.hidden_noise), weight_norm=o.weight_norm)
        return self.discriminator(out_dim=outputs)

    def sample(self, n, labels=None):
        return self.G(self.noise(n))

    def classify(self, x: Tensor) -> Tensor:
        """D's K class logits."""
        return self.D(x)[:, :self.num_labels]

    def d_loss(self, batch):
        with torch.no_grad():
            fake = self.sample(len(batch))
        k, real = self.num_labels, self.augment(batch.x)
        labelled = self.D(self.augment(batch.labelled.x))
        supervised, unsupervised = semi_supervised_d_loss(labelled, batch.labelled.y, self.D(real),
                                                          self.D(self.augment(fake)), k)
        logs = {"supervised": supervised.detach(), "unsupervised": unsupervised.detach(),
                "labelled_acc": (labelled[:, :k].argmax(1) == batch.labelled.y).float().mean()}
        return self.total(supervised + self.options.unsupervised_weight * unsupervised, logs,
                          self.r1(lambda x: realness(self.D(x), k), real))

    def g_loss(self, batch):
        fake = self.augment(self.sample(len(batch)))
        if not self.options.feature_matching:
            return self.total(F.softplus(-realness(self.D(fake), self.num_labels)).mean(), {}, {})
        with torch.no_grad():
            real_features = self.D.features(self.augment(batch.x))
        return self.total(feature_matching(real_features, self.D.features(fake)), {}, {})

"""DiscoGAN (Kim et al. 2017): two GANs coupled by reconstruction, trained on unpaired domains.

G_AB: A -> B and G_BA: B -> A are encoder-decoders without skip connections;
D_B judges domain B and D_A domain A, each with one logit per image:

    D_B minimises  BCE(D_B(b), 1) + BCE(D_B(G_AB(a)), 0)                 (D_A likewise)
    G minimises    L_GAN_B + L_CONST_A + L_GAN_A + L_CONST_B
                   L_GAN_B   = BCE(D_B(G_AB(a)), 1)   (= -E log D_B(G_AB(a)))
                   L_CONST_A = d(G_BA(G_AB(a)), a),   d = MSE            (B likewise)

Unpaired: a and b are independent draws. G (gankit.nets.translation.
EncoderDecoderGenerator) is stride-2 4x4 convolutions down to 4x4 (LeakyReLU
0.2; 4 of them at the paper's 64x64) and as many transposed ones up (ReLU),
BatchNorm on all but the first and last, tanh out. D is the same encoder plus
a 4x4 convolution to a single logit, i.e. gankit's DCGAN discriminator.
Adam 2e-4, betas (0.5, 0.999). D steps first on fakes made without gradients;
G's step then makes its own.

The paper leaves d open (MSE, cosine distance or a hinge loss); the authors'
code uses MSE, and so does gankit (``recon_weight`` scales it, 1 in the
paper). That code also departs from the paper's objective: 0.9 x feature
matching in place of most of the GAN term, reconstruction weighted
0.01 for the first 10k iterations and 0.5 after, one D step for every two G
steps, and sigmoid outputs for data in [0, 1]; gankit follows the paper. The
widely copied reference adds a paired L1 between G_AB(a) and b (and G_BA(b)
and a), which on aligned data silently makes the model supervised; there is
no such term here, and the paired partner of a batch is never looked at.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from gankit.errors import GankitError
from gankit.losses import cycle_consistency_mse, d_loss_bce, g_loss_nonsaturating
from gankit.models.base import Player
from gankit.models.translation.base import TranslationNorm, TranslationOptions, TwoWayTranslationModel
from gankit.nets.blocks import PowerOfTwoSizes
from gankit.nets.dcgan import DCGANDiscriminator
from gankit.nets.translation import EncoderDecoderGenerator
from gankit.registry import register


@dataclass
class DiscoGANOptions(TranslationOptions):
    recon_weight: float = 1.0  # weight of L_CONST against L_GAN (the paper: 1)
    # stride-2 stages in each half of G; None: down to 4x4 (4 at the paper's 64x64, which uses 4 or 5 by domain)
    layers: Optional[int] = None
    norm: TranslationNorm = "batch"

    def validate(self) -> None:
        super().validate()
        if self.recon_weight < 0 or (self.layers is not None and not 1 <= self.layers <= 8):
            raise GankitError("options.recon_weight must be non-negative and options.layers between 1 and 8.")


@register
class DiscoGAN(TwoWayTranslationModel):
    name = "discogan"
    summary = "two encoder-decoder G (A->B, B->A), two D; BCE GAN + MSE reconstruction, unpaired"
    paper = "Kim et al. 2017, Learning to Discover Cross-Domain Relations with Generative Adversarial Networks"
    Options = DiscoGANOptions

    def __init__(self, options, data):
        super().__init__(options, data)
        o = options
        self.layers = self.size.bit_length() - 3 if o.layers is None else o.layers  # log2(size) - 2: 4x4
        self.G_ab = EncoderDecoderGenerator(self.channels_a, self.channels_b, o.width, self.layers, o.norm)
        self.G_ba = EncoderDecoderGenerator(self.channels_b, self.channels_a, o.width, self.layers, o.norm)
        self.D_a = DCGANDiscriminator(data.shape, o.width, norm=o.norm)
        self.D_b = DCGANDiscriminator(data.shape_b, o.width, norm=o.norm)

    @classmethod
    def image_sizes(cls, options):
        return PowerOfTwoSizes(max(32, 2 ** (options.layers or 0)))

    def players(self):
        return [Player("D", [self.D_a, self.D_b], self.d_loss, self.optim()),
                Player("G", [self.G_ab, self.G_ba], self.g_loss, self.optim())]

    def d_loss(self, batch):
        return self.critics_loss(d_loss_bce, batch)

    def g_loss(self, batch):
        adversarial, recon, _, _ = self.generator_terms(batch, g_loss_nonsaturating, cycle_consistency_mse)
        loss = adversarial + self.options.recon_weight * recon
        return loss, {"loss": loss.detach(), "adversarial": adversarial.detach(), "recon": recon.detach()}

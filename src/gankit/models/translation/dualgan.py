"""DualGAN (Yi et al. 2017): a primal and a dual translator on unpaired domains, Wasserstein critics.

G_A: U -> V and G_B: V -> U (gankit: G_ab, G_ba) are pix2pix U-Nets; D_A
scores domain V and D_B domain U (gankit: D_b, D_a), PatchGAN critics whose
patch scores are averaged. With lambda_U = lambda_V = lambda:

    repeat n_critic times, each on a fresh batch (u, v):
        D_b, D_a minimise  E D_b(G_ab(u)) - E D_b(v) + E D_a(G_ba(v)) - E D_a(u)
        clip every critic weight to [-c, c]
    G_ab, G_ba minimise    lambda ( E|G_ba(G_ab(u)) - u| + E|G_ab(G_ba(v)) - v| )
                           - E D_b(G_ab(u)) - E D_a(G_ba(v))

RMSprop 5e-5 (the paper: Adam's momentum occasionally made training
unstable), n_critic = 2, c = 0.01, lambda = 100. The paper picks lambda in
[100, 1000], n_critic in 2-4 and c in [0.01, 0.1] by domain; gankit defaults
to the low end of each. Dropout in the U-Net decoder stands in for the paper's
noise z, as in pix2pix; translations run in eval mode. The critics carry no
normalisation: BatchNorm makes a critic's score of one image depend on the
rest of the batch, which breaks the Wasserstein estimate that clipping is
there to keep Lipschitz. ``warmup_critic_steps`` > 0 borrows the WGAN code's
warm-up (that many critic steps in each of the first ``warmup_rounds``
rounds); the DualGAN paper has none, so it is off by default.

Which invertible pair the generators settle on is decided in their first few
steps, when the reconstruction term outweighs a still-weak critic: on a toy
task (digits -> their negatives, tiny nets) some seeds lock into an
identity-like pair the clipped critic cannot pull them out of
(tests/test_models_translation_two_way.py).

The authors' released code trains a different model from the paper's: sigmoid
cross-entropy instead of the Wasserstein loss, no clipping, BatchNorm in D, two
G steps per D step and lambda = 20. The widely copied reference swaps clipping
for a gradient penalty with Adam 2e-4 and n_critic 5, and puts
BatchNorm(C, 0.8) (eps = 0.8 by accident) in the penalised critic. gankit
follows the paper.
"""
from __future__ import annotations

from dataclasses import dataclass

from gankit.errors import GankitError
from gankit.losses import clip_weights, cycle_consistency, d_loss_wasserstein, g_loss_wasserstein
from gankit.models.base import OptimSpec, Player
from gankit.models.translation.base import TranslationNorm, TranslationOptions, TwoWayTranslationModel
from gankit.nets.translation import PatchDiscriminator, UNetGenerator
from gankit.registry import register


@dataclass
class DualGANOptions(TranslationOptions):
    lr: float = 5e-5  # RMSprop
    cycle_weight: float = 100.0  # lambda_U = lambda_V (the paper: 100 to 1000 by domain)
    n_critic: int = 2  # critic steps, each on a fresh batch, per G step (the paper: 2 to 4)
    clip: float = 0.01  # critic weights are clamped to [-clip, clip] (the paper: 0.01 to 0.1)
    norm: TranslationNorm = "batch"  # the generators' (the critics have none)
    dropout: float = 0.5  # in the three U-Net decoder stages nearest the bottleneck
    d_layers: int = 3  # PatchGAN stride-2 stages: 70x70 patches at 256x256
    # WGAN's code (not the DualGAN paper): this many critic steps in each of the first warmup_rounds rounds
    warmup_critic_steps: int = 0
    warmup_rounds: int = 25

    def validate(self) -> None:
        super().validate()
        if self.cycle_weight < 0 or self.n_critic < 1 or self.clip <= 0 or not 0 <= self.dropout < 1 \
                or self.d_layers < 1 or self.warmup_critic_steps < 0 or self.warmup_rounds < 0:
            raise GankitError("options.cycle_weight, warmup_critic_steps and warmup_rounds must be non-negative, "
                              "n_critic and d_layers at least 1, clip positive and dropout in [0, 1).")


@register
class DualGAN(TwoWayTranslationModel):
    name = "dualgan"
    summary = "two U-Net G (A->B, B->A), two clipped PatchGAN critics; WGAN + 100 x L1 reconstruction, RMSprop"
    paper = "Yi et al. 2017, DualGAN: Unsupervised Dual Learning for Image-to-Image Translation"
    Options = DualGANOptions

    def __init__(self, options, data):
        super().__init__(options, data)
        o = options
        self.G_ab = UNetGenerator(self.channels_a, self.channels_b, self.size, o.width, o.norm, o.dropout)
        self.G_ba = UNetGenerator(self.channels_b, self.channels_a, self.size, o.width, o.norm, o.dropout)
        self.D_a = PatchDiscriminator(self.channels_a, o.width, o.d_layers, norm="none")
        self.D_b = PatchDiscriminator(self.channels_b, o.width, o.d_layers, norm="none")

    def optim(self) -> OptimSpec:
        return OptimSpec("rmsprop", self.options.lr)

    def critic_steps(self, round_: int) -> int:
        o = self.options
        return o.warmup_critic_steps if o.warmup_critic_steps > 0 and round_ < o.warmup_rounds else o.n_critic

    def players(self):
        return [Player("D", [self.D_a, self.D_b], self.d_loss, self.optim(), steps=self.options.n_critic,
                       schedule=self.critic_steps),
                Player("G", [self.G_ab, self.G_ba], self.g_loss, self.optim())]

    def after_step(self, player):
        if player == "D":
            clip_weights(self.D_a, self.options.clip)
            clip_weights(self.D_b, self.options.clip)

    def d_loss(self, batch):
        return self.critics_loss(d_loss_wasserstein, batch)

    def g_loss(self, batch):
        adversarial, cycle, _, _ = self.generator_terms(batch, g_loss_wasserstein, cycle_consistency)
        loss = adversarial + self.options.cycle_weight * cycle
        return loss, {"loss": loss.detach(), "adversarial": adversarial.detach(), "cycle": cycle.detach()}

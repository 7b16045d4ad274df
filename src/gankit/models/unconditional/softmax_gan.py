"""Softmax GAN (Lin 2017, "Softmax GAN").

D assigns an energy mu(v) = D(v) to each of the batch's real and fake samples,
which defines a softmax over the whole batch B = B+ (real) + B- (fake),
p(v) = exp(-mu(v)) / Z with Z = sum over B of exp(-mu). D matches it to the
target that puts all mass uniformly on the real samples; G to the uniform
target over all of B:

    D minimises  mean_{B+} mu + log Z
    G minimises  mean_{B+ and B-} mu + log Z

(both are cross-entropies between a target distribution and the softmax).
log Z is computed with logsumexp, which cannot overflow. Adam 2e-4,
betas (0.5, 0.999). The reference script crashes (an undefined ``log`` and an
in-place modification of a tensor autograd still needs).
"""
from __future__ import annotations

import torch

from gankit.models.unconditional.base import UnconditionalGAN
from gankit.registry import register


@register
class SoftmaxGAN(UnconditionalGAN):
    name = "softmax-gan"
    summary = "softmax cross-entropy over the whole real+fake batch (logsumexp partition)"
    paper = "Lin 2017, Softmax GAN"

    @staticmethod
    def log_partition(mu_real, mu_fake):
        return torch.logsumexp(-torch.cat([mu_real, mu_fake]), dim=0)

    def d_objective(self, real, fake):
        mu_real, mu_fake = self.D(real), self.D(fake)
        loss = mu_real.mean() + self.log_partition(mu_real, mu_fake)
        return loss, {"real_energy": mu_real.detach().mean(), "fake_energy": mu_fake.detach().mean()}

    def g_objective(self, real, fake):
        mu_real, mu_fake = self.D(real).detach(), self.D(fake)
        return torch.cat([mu_real, mu_fake]).mean() + self.log_partition(mu_real, mu_fake), {}

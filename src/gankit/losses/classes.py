"""Loss terms of the class-aware models, as pure functions of raw logits and codes."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def auxiliary_class_loss(real_logits: Tensor, labels: Tensor, fake_logits: Tensor, fake_labels: Tensor) -> Tensor:
    """AC-GAN's class term for D: CE(c(x), y) + CE(c(G(z, y~)), y~) (G's is the second CE alone)."""
    return F.cross_entropy(real_logits, labels) + F.cross_entropy(fake_logits, fake_labels)


def info_loss(q: Tensor, categorical: Tensor, continuous: Tensor, continuous_weight: float = 1.0) -> Tensor:
    """InfoGAN's L_I from Q's outputs: K categorical logits, then one mean per continuous code.

    CE(logits, c1) + continuous_weight * mean over the batch of sum_j 1/2 (c_j - mu_j)^2,
    the Gaussian negative log-likelihood with unit variance up to its constant.
    """
    k = q.shape[1] - continuous.shape[1]
    return F.cross_entropy(q[:, :k], categorical) + continuous_weight * 0.5 * (continuous - q[:, k:]).pow(2).sum(1).mean()


def realness(logits: Tensor, num_classes: int) -> Tensor:
    """A semi-supervised D's real-vs-fake logit s = logsumexp(l_1..l_K) - l_fake.

    ``logits`` holds K class logits, then optionally a (K+1)-th fake logit; without
    it the fake logit is 0 (Salimans et al.), so sigmoid(s) = Z / (Z + 1), Z = sum exp l_k.
    """
    fake = logits[:, num_classes] if logits.shape[1] > num_classes else 0.0
    return torch.logsumexp(logits[:, :num_classes], dim=1) - fake


def semi_supervised_d_loss(labelled: Tensor, labels: Tensor, unlabelled: Tensor, fake: Tensor,
                           num_classes: int) -> tuple[Tensor, Tensor]:
    """(supervised, unsupervised) terms of a semi-supervised D, from its logits on three batches.

    supervised = CE over the K class logits of labelled reals (-log p(y | x, real));
    unsupervised = E softplus(-s(x)) + E softplus(s(G(z))) = -E log p(real|x) - E log p(fake|G(z)).
    """
    supervised = F.cross_entropy(labelled[:, :num_classes], labels)
    unsupervised = (F.softplus(-realness(unlabelled, num_classes)).mean()
                    + F.softplus(realness(fake, num_classes)).mean())
    return supervised, unsupervised


def feature_matching(real_features: Tensor, fake_features: Tensor) -> Tensor:
    """Salimans et al.'s G loss: mean over features of (E f(x) - E f(G(z)))^2."""
    return (real_features.mean(0) - fake_features.mean(0)).pow(2).mean()


def cluster_code_loss(z_n_hat: Tensor, z_n: Tensor, cluster_logits: Tensor, z_c: Tensor, beta_n: float = 10.0,
                      beta_c: float = 10.0) -> Tensor:
    """ClusterGAN's encoder terms: beta_n * mean (z_n - E_n(G(z)))^2 + beta_c * CE(E_c(G(z)), z_c)."""
    return beta_n * F.mse_loss(z_n_hat, z_n) + beta_c * F.cross_entropy(cluster_logits, z_c)

"""Adversarial objectives as pure functions of raw logits.

Every function takes the critic's raw outputs (never probabilities), reduces
with a mean over all elements (so PatchGAN outputs and short batches work),
and returns a scalar the named player minimises.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def _bce(logits: Tensor, target: float) -> Tensor:
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


# --- standard GAN (Goodfellow et al. 2014) -----------------------------------

def d_loss_bce(real: Tensor, fake: Tensor) -> Tensor:
    """BCE(D(x), 1) + BCE(D(x~), 0)."""
    return _bce(real, 1.0) + _bce(fake, 0.0)


def g_loss_nonsaturating(fake: Tensor) -> Tensor:
    """BCE(D(x~), 1): the non-saturating generator loss."""
    return _bce(fake, 1.0)


def g_loss_minimax(fake: Tensor) -> Tensor:
    """-BCE(D(x~), 0) = E log(1 - sigma(D(x~))): the original minimax loss."""
    return -_bce(fake, 0.0)


# --- least squares (Mao et al. 2017, a=0, b=1, c=1) --------------------------

def d_loss_least_squares(real: Tensor, fake: Tensor) -> Tensor:
    """1/2 E (D(x) - 1)^2 + 1/2 E D(x~)^2."""
    return 0.5 * (real - 1).pow(2).mean() + 0.5 * fake.pow(2).mean()


def g_loss_least_squares(fake: Tensor) -> Tensor:
    """1/2 E (D(x~) - 1)^2."""
    return 0.5 * (fake - 1).pow(2).mean()


# --- Wasserstein (Arjovsky et al. 2017) --------------------------------------

def d_loss_wasserstein(real: Tensor, fake: Tensor) -> Tensor:
    """E f(x~) - E f(x)."""
    return fake.mean() - real.mean()


def g_loss_wasserstein(fake: Tensor) -> Tensor:
    """-E f(x~)."""
    return -fake.mean()


# --- hinge (Lim & Ye 2017; Miyato et al. 2018) -------------------------------

def d_loss_hinge(real: Tensor, fake: Tensor) -> Tensor:
    """E max(0, 1 - D(x)) + E max(0, 1 + D(x~))."""
    return F.relu(1 - real).mean() + F.relu(1 + fake).mean()


def g_loss_hinge(fake: Tensor) -> Tensor:
    """-E D(x~)."""
    return -fake.mean()


# --- relativistic (Jolicoeur-Martineau 2018) ----------------------------------

# For each base loss: the penalty on a relativistic logit t that should say
# "more real than the other side" and the one that should say "less real".
_RELATIVISTIC_BASES = {
    "sgan": (lambda t: F.softplus(-t), lambda t: F.softplus(t)),
    "lsgan": (lambda t: (t - 1).pow(2), lambda t: (t + 1).pow(2)),
    "hinge": (lambda t: F.relu(1 - t), lambda t: F.relu(1 + t)),
}
RELATIVISTIC_BASES = tuple(_RELATIVISTIC_BASES)
RELATIVISTIC_KINDS = ("standard", "average")


def relativistic_loss(pos: Tensor, neg: Tensor, kind: str = "average", base: str = "sgan") -> Tensor:
    """Loss that pushes the critic to rate ``pos`` more real than ``neg``.

    D minimises ``relativistic_loss(C(x), C(x~))`` and G minimises
    ``relativistic_loss(C(x~), C(x))``: the generator's loss has both terms.

    standard: E pos_loss(C(pos) - C(neg)), paired element-wise.
    average:  E pos_loss(C(pos) - E C(neg)) + E neg_loss(C(neg) - E C(pos)).
    """
    if kind not in RELATIVISTIC_KINDS or base not in _RELATIVISTIC_BASES:
        raise ValueError(f"unknown relativistic loss {kind}/{base}")
    pos_loss, neg_loss = _RELATIVISTIC_BASES[base]
    if kind == "standard":
        return pos_loss(pos - neg).mean()
    return pos_loss(pos - neg.mean()).mean() + neg_loss(neg - pos.mean()).mean()


# --- a name -> (D loss, G loss) table for the options every model offers ------

ADVERSARIAL_LOSSES = {
    "ns": (d_loss_bce, g_loss_nonsaturating),
    "minimax": (d_loss_bce, g_loss_minimax),
    "lsgan": (d_loss_least_squares, g_loss_least_squares),
    "wasserstein": (d_loss_wasserstein, g_loss_wasserstein),
    "hinge": (d_loss_hinge, g_loss_hinge),
}

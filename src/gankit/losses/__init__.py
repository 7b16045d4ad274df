"""Adversarial objectives, the class-aware models' terms, critic penalties, and the translation, inpainting and
encoder terms (see the submodules)."""
from gankit.losses.adversarial import (
    ADVERSARIAL_LOSSES,
    RELATIVISTIC_BASES,
    RELATIVISTIC_KINDS,
    d_loss_bce,
    d_loss_hinge,
    d_loss_least_squares,
    d_loss_wasserstein,
    g_loss_hinge,
    g_loss_least_squares,
    g_loss_minimax,
    g_loss_nonsaturating,
    g_loss_wasserstein,
    relativistic_loss,
)
from gankit.losses.classes import (
    auxiliary_class_loss,
    cluster_code_loss,
    feature_matching,
    info_loss,
    realness,
    semi_supervised_d_loss,
)
from gankit.losses.encoders import gaussian_nll, vaegan_d_loss
from gankit.losses.inpainting import masked_l2
from gankit.losses.penalties import (
    clip_weights,
    dragan_penalty,
    gradient_penalty,
    input_gradient_norm,
    interpolate,
    r1_penalty,
    wgan_div_penalty,
)
from gankit.losses.translation import (
    attribute_classification,
    cycle_consistency,
    cycle_consistency_mse,
    gaussian_kl,
    identity_mapping,
    least_squares_g_loss,
    paired_l1,
    pairwise_mse,
    source_and_adapted_ce,
    unit_kl,
)

__all__ = [name for name in dir() if not name.startswith("_")]

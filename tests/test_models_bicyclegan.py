"""BicycleGAN: the KL term by hand, the latent regression that updates G alone, shapes, one CPU
training step and a tiny learning test (digits -> their negatives, paired, scored as in
test_models_translation: the L1 error against the true negative as a fraction of the identity
map's; 0.23 for the mean negative image, 0.29 for a random other digit's), in random codes z. The
paper's Adam 2e-4 is too slow for so few rounds (seed 0, 200 rounds: 0.32); at 1e-3, width 8, 300
rounds of batch 16 (8 per cycle), seeds 0-2 on a 2-core AMD EPYC, one thread: 0.060-0.075.
"""
from __future__ import annotations

import math

import pytest
import torch

from gankit.config import resolve
from gankit.data import Batch, DataSpec
from gankit.errors import GankitError
from gankit.losses import gaussian_kl
from gankit.models.translation.bicyclegan import frozen
from gankit.registry import get_model
from test_models_translation import TINY, assert_fit_updates_every_player, l1_to_truth, negatives, trainer


def build(**options):
    spec = DataSpec("a>b", "image", (1, 32, 32), shape_b=(3, 32, 32), paired=True)
    tree = {"model": "bicyclegan", "options": {**TINY["bicyclegan"], **options}}
    return get_model("bicyclegan")(resolve(tree, get_model("bicyclegan").Options).options, spec)


def test_gaussian_kl_by_hand():
    mu = torch.tensor([[1.0, 0.0], [0.0, 0.0]])
    logvar = torch.tensor([[0.0, math.log(2.0)], [0.0, 0.0]])
    # first code: 1/2 [(1 + 1 - 1 - 0) + (0 + 2 - 1 - log 2)]; the second is the prior itself: 0
    assert gaussian_kl(mu, logvar).item() == pytest.approx(0.5 * (2 - math.log(2)) / 2)


def test_frozen_blocks_parameter_gradients_but_not_input_gradients():
    net = torch.nn.Linear(3, 2)
    x = torch.randn(4, 3, requires_grad=True)
    with frozen(net):
        net(x).sum().backward()
    assert net.weight.grad is None and x.grad is not None and net.weight.requires_grad


def test_the_latent_regression_updates_g_alone():
    model = build()
    batch = Batch(torch.randn(4, 1, 32, 32), x_b=torch.randn(4, 3, 32, 32))

    def grads(latent_weight):
        model.options.latent_weight = latent_weight
        model.zero_grad()
        torch.manual_seed(0)
        model.g_loss(batch)[0].backward()
        return {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}

    without, with_latent = grads(0.0), grads(1.0)
    e_params = [name for name in without if name.startswith("E.")]
    assert e_params and all(torch.equal(without[name], with_latent[name]) for name in e_params)
    assert not torch.equal(without["G.out.1.weight"], with_latent["G.out.1.weight"])


def test_codes_change_the_translation_and_a_given_code_repeats_it():
    model = build().eval()
    a = torch.randn(3, 1, 32, 32)
    assert model.translate(a).shape == (3, 3, 32, 32) and model.multimodal
    assert not torch.allclose(model.translate(a), model.translate(a))
    z = model.draw_styles(1).expand(3, -1)
    assert torch.equal(model.translate(a, style=z), model.translate(a, style=z))
    mu, logvar = model.encode(torch.randn(3, 3, 32, 32))
    assert mu.shape == logvar.shape == (3, 8)


def test_bad_options_and_unpaired_data_are_refused(tmp_path):
    with pytest.raises(GankitError, match="z_dim"):
        build(z_dim=0)
    with pytest.raises(GankitError, match="aligned pairs"):
        trainer(tmp_path, "bicyclegan", negatives(paired=False))


@pytest.mark.parametrize("variant", ["bicycle", "pix2pix+noise"])
def test_one_training_step_updates_every_player(tmp_path, variant):
    run = trainer(tmp_path, "bicyclegan", negatives(paired=True), options={"variant": variant})
    assert_fit_updates_every_player(run)
    # the baseline is G and one D, nothing else
    assert hasattr(run.model, "E") == (variant == "bicycle") == hasattr(run.model, "D_vae")


def test_bicyclegan_learns_a_paired_mapping(tmp_path):
    run = trainer(tmp_path, "bicyclegan", negatives(paired=True), steps=300, batch_size=16, options={"lr": 1e-3})
    run.fit(progress=False)
    error, identity_error = l1_to_truth(run.model)
    assert error < 0.12 * identity_error

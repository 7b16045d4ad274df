"""UNIT: the KL term by hand, the shared layers, shapes, one CPU training step and a tiny learning
test (digits <-> their negatives, scored as in test_models_translation: the L1 error against the
true negative as a fraction of the identity map's; 0.23 for the mean negative image, 0.29 for a
random other digit's). Seeds 0-2 on a 2-core AMD EPYC, one thread, width 8, 2 blocks, 150 rounds
of batch 8: 0.072-0.088 both ways.
"""
from __future__ import annotations

import pytest
import torch

from gankit.config import resolve
from gankit.data import DataSpec
from gankit.errors import GankitError
from gankit.losses import unit_kl
from gankit.registry import get_model
from test_models_translation import TINY, assert_fit_updates_every_player, l1_to_truth, negatives, trainer


def build(channels=(1, 3), **options):
    spec = DataSpec("a>b", "image", (channels[0], 32, 32), shape_b=(channels[1], 32, 32), paired=False)
    tree = {"model": "unit", "options": {**TINY["unit"], **options}}
    return get_model("unit")(resolve(tree, get_model("unit").Options).options, spec)


def test_unit_kl_by_hand():
    mu = torch.tensor([[1.0, -2.0], [0.0, 3.0]])
    assert unit_kl(mu).item() == pytest.approx((1 + 4 + 0 + 9) / 4)


def test_shapes_and_the_shared_latent_space():
    model = build()
    a, b = torch.randn(2, 1, 32, 32), torch.randn(2, 3, 32, 32)
    assert model.encode(a, "a").shape == model.encode(b, "b").shape == (2, 32, 8, 8)
    assert model.translate(a, "a2b").shape == b.shape and model.translate(b, "b2a").shape == a.shape
    # both domains pass through one shared module on the way in and on the way out
    seen = []
    for shared in (model.E_shared, model.G_shared):
        shared.register_forward_hook(lambda module, inputs, output: seen.append(module))
    model.translate(a, "a2b"), model.translate(b, "b2a")
    assert seen == [model.E_shared, model.G_shared] * 2
    # test-time translation uses the posterior mean: no noise
    model.eval()
    assert torch.equal(model.translate(a, "a2b"), model.translate(a, "a2b"))


def test_bad_sharing_is_refused():
    with pytest.raises(GankitError, match="options.shared"):
        build(blocks=2, shared=3)
    with pytest.raises(GankitError, match="options.shared"):
        build(shared=0)


def test_one_training_step_updates_every_player(tmp_path):
    run = trainer(tmp_path, "unit", negatives(paired=False))
    assert [p.name for p in run.players] == ["D", "G"]
    assert_fit_updates_every_player(run)


def test_unit_learns_an_unpaired_mapping_both_ways(tmp_path):
    run = trainer(tmp_path, "unit", negatives(paired=False), steps=150)
    run.fit(progress=False)
    for direction in ("a2b", "b2a"):
        error, identity_error = l1_to_truth(run.model, direction)
        assert error < 0.12 * identity_error, direction

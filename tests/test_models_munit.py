"""MUNIT: its networks (AdaIN decoder, style encoder, multi-scale D), styles that change the output,
one CPU training step and a tiny learning test (digits <-> their negatives, scored as in
test_models_translation: L1 error against the true negative as a fraction of the identity map's;
0.23 for the mean negative image, 0.29 for a random other digit's). The paper's Adam 1e-4 does not
get there in 150 rounds (seed 0: 0.42); at 1e-3, width 8, 2 blocks, seeds 0-2 on a 2-core AMD EPYC,
one thread, 150 rounds of batch 8: 0.060-0.097 both ways, each input translated in a random style.
"""
from __future__ import annotations

import pytest
import torch
from torch import nn

from gankit.config import resolve
from gankit.data import DataSpec
from gankit.errors import GankitError
from gankit.models.translation.munit import summed_over_scales
from gankit.nets.translation import AdaINResidualBlock, MultiScaleDiscriminator, resnet_up
from gankit.registry import get_model
from test_models_translation import TINY, assert_fit_updates_every_player, l1_to_truth, negatives, trainer


def build(channels=(1, 3), **options):
    spec = DataSpec("a>b", "image", (channels[0], 32, 32), shape_b=(channels[1], 32, 32), paired=False)
    tree = {"model": "munit", "options": {**TINY["munit"], **options}}
    return get_model("munit")(resolve(tree, get_model("munit").Options).options, spec)


def test_adain_takes_scale_and_shift_from_outside():
    block = AdaINResidualBlock(4)
    x = torch.randn(2, 4, 8, 8)
    zero = torch.zeros(2, block.params)
    # shift only the second norm by 3 in every channel: the output moves by exactly 3
    shifted = zero.clone()
    shifted[:, 12:] = 3.0
    assert torch.allclose(block(x, shifted), block(x, zero) + 3.0, atol=1e-5)


def test_multiscale_discriminator_gives_one_grid_per_scale():
    d = MultiScaleDiscriminator(3, width=4, scales=3, layers=3)
    grids = d(torch.randn(2, 3, 32, 32))
    assert [tuple(g.shape) for g in grids] == [(2, 1, 4, 4), (2, 1, 2, 2), (2, 1, 1, 1)]
    # the scales' losses are summed: here 1 + 2 + 3 for grids that give their scale's index + 1
    assert summed_over_scales(lambda grid: grid.mean())(
        [torch.full((1,), float(i + 1)) for i in range(3)]).item() == 6.0


def test_styles_change_the_translation_and_a_given_style_repeats_it():
    model = build().eval()
    a, b = torch.randn(3, 1, 32, 32), torch.randn(3, 3, 32, 32)
    assert model.translate(a, "a2b").shape == b.shape and model.translate(b, "b2a").shape == a.shape
    assert not torch.allclose(model.translate(a, "a2b"), model.translate(a, "a2b"))
    style = model.draw_styles(1).expand(3, -1)
    assert torch.equal(model.translate(a, "a2b", style=style), model.translate(a, "a2b", style=style))
    assert model.style_a(a).shape == (3, 8) and model.multimodal


def test_bad_options_are_refused():
    with pytest.raises(GankitError, match="style_dim"):
        build(style_dim=0)
    with pytest.raises(ValueError, match="discriminator scales"):
        build(scales=4)  # 32 / 2^3 / 2^3 < 1


def test_one_training_step_updates_every_player(tmp_path):
    assert_fit_updates_every_player(trainer(tmp_path, "munit", negatives(paired=False)))


def test_munit_learns_an_unpaired_mapping_both_ways(tmp_path):
    run = trainer(tmp_path, "munit", negatives(paired=False), steps=150, options={"lr": 1e-3})
    run.fit(progress=False)
    for direction in ("a2b", "b2a"):
        error, identity_error = l1_to_truth(run.model, direction)
        assert error < 0.12 * identity_error, direction


def test_decoder_upsamples_without_a_checkerboard():
    # nearest-neighbour upsampling then a convolution treats every output pixel alike, so a constant
    # content map stays constant; a stride-2 transposed convolution alternates kernel taps and does not
    flat = torch.ones(1, 16, 8, 8)
    torch.manual_seed(0)
    out = nn.Sequential(*resnet_up(3, 4, "layer", upsample="nearest"))(flat)
    assert out.shape == (1, 3, 32, 32) and out.std(dim=(2, 3)).max().item() < 1e-6
    transposed = nn.Sequential(*resnet_up(3, 4, "layer"))(flat)
    assert transposed.std(dim=(2, 3)).min().item() > 1e-3

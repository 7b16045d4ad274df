"""The image-to-image family's loss terms and shared networks: U-Net, ResNet G, PatchGAN, image pool."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from gankit.losses import cycle_consistency, identity_mapping, least_squares_g_loss, paired_l1
from gankit.nets.translation import ImagePool, PatchDiscriminator, ResnetGenerator, UNetGenerator


def test_paired_l1_is_the_mean_absolute_difference():
    fake = torch.tensor([[0.5, -1.0], [0.0, 1.0]])
    target = torch.tensor([[0.0, 1.0], [0.0, 0.5]])
    assert paired_l1(fake, target).item() == pytest.approx((0.5 + 2.0 + 0.0 + 0.5) / 4)


def test_cycle_and_identity_terms_sum_one_mean_per_domain():
    a, b = torch.zeros(1, 1, 2, 2), torch.ones(1, 3, 1, 1)
    cycled_a = torch.tensor([[[[1.0, -1.0], [0.0, 2.0]]]])  # mean |.| = 1
    cycled_b = torch.tensor([0.0, 1.0, 1.5]).view(1, 3, 1, 1)  # |.-1| = 1, 0, 0.5: mean 0.5
    assert cycle_consistency(a, cycled_a, b, cycled_b).item() == pytest.approx(1.5)
    # identity: G(b) against b, F(a) against a; the same sum with the roles named differently
    assert identity_mapping(a, cycled_b, b, cycled_a).item() == pytest.approx(1.5)


def test_least_squares_g_loss_has_no_half():
    # E (D - 1)^2 over (0.5, 3): (0.25 + 4) / 2
    assert least_squares_g_loss(torch.tensor([[0.5, 3.0]])).item() == pytest.approx(2.125)


def test_patchgan_gives_one_logit_per_70x70_patch_at_256():
    d = PatchDiscriminator(6, width=8, layers=3)
    assert d(torch.randn(1, 6, 256, 256)).shape == (1, 1, 30, 30)  # the pix2pix paper's 30x30 grid
    assert d(torch.randn(2, 6, 32, 32)).shape == (2, 1, 2, 2)
    # receptive field: an output logit changes only for input pixels within its 70x70 window
    d.eval()  # (BatchNorm in training mode would mix every position through the batch statistics)
    x = torch.randn(1, 6, 256, 256, requires_grad=True)
    d(x)[0, 0, 0, 0].backward()
    rows, cols = x.grad.abs().sum((0, 1)).nonzero().T
    assert rows.max() - rows.min() + 1 <= 70 and cols.max() - cols.min() + 1 <= 70


@pytest.mark.parametrize("channels", [(1, 1), (1, 3), (3, 3)])
def test_resnet_generator_keeps_the_size_with_reflection_padding_of_3(channels):
    g = ResnetGenerator(*channels, width=8, blocks=2)
    out = g(torch.randn(2, channels[0], 32, 32))
    assert out.shape == (2, channels[1], 32, 32) and out.abs().max() <= 1
    pads = [m.padding for m in g.modules() if isinstance(m, nn.ReflectionPad2d)]
    assert pads[0] == (3, 3, 3, 3) and pads[-1] == (3, 3, 3, 3)  # not the channel count (the reference's bug)
    assert not any(isinstance(m, nn.ZeroPad2d) for m in g.modules())


def test_unet_reaches_1x1_and_its_skips_carry_the_input_past_the_bottleneck():
    g = UNetGenerator(1, 3, 32, width=8).eval()
    bottleneck = []
    g.down[-1].register_forward_hook(lambda module, inputs, output: bottleneck.append(output.shape))
    x = torch.randn(2, 1, 32, 32)
    assert g(x).shape == (2, 3, 32, 32) and bottleneck[0][-2:] == (1, 1)
    with torch.no_grad():  # cut the bottleneck: the output can then depend on x only through the skips
        g.down[-1][-1].weight.zero_()
        assert not torch.allclose(g(x), g(torch.zeros_like(x)))


def test_unet_refuses_sizes_it_cannot_halve_to_1x1():
    with pytest.raises(ValueError, match="power-of-two"):
        UNetGenerator(1, 1, 48)


def _images(*values):
    return torch.stack([torch.full((1, 2, 2), float(v)) for v in values])


def test_image_pool_stores_the_first_fakes_and_returns_them():
    pool = ImagePool(3)
    fakes = _images(1, 2, 3)
    assert torch.equal(pool.query(fakes), fakes)
    assert [img[0, 0, 0].item() for img in pool.images] == [1, 2, 3]


def test_full_image_pool_returns_the_fake_or_swaps_it_for_a_stored_one():
    torch.manual_seed(0)
    pool = ImagePool(3)
    pool.query(_images(1, 2, 3))
    swapped = 0
    for value in range(10, 410):
        before = [img[0, 0, 0].item() for img in pool.images]
        answer = pool.query(_images(value))[0, 0, 0, 0].item()
        after = [img[0, 0, 0].item() for img in pool.images]
        assert len(after) == 3
        if answer == value:  # returned as is, pool unchanged
            assert after == before
        else:  # an old image came back and the new one took its slot
            swapped += 1
            slot = before.index(answer)
            assert after[slot] == value and after[:slot] + after[slot + 1:] == before[:slot] + before[slot + 1:]
    assert 160 < swapped < 240  # about half of 400


def test_image_pool_travels_in_the_state_dict():
    pool = ImagePool(4)
    pool.query(_images(5, 6))
    restored = ImagePool(4)
    restored.load_state_dict(pool.state_dict())
    assert [img[0, 0, 0].item() for img in restored.images] == [5, 6]
    empty = ImagePool(4)
    empty.load_state_dict(ImagePool(4).state_dict())
    assert empty.images == []

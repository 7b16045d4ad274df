"""Inpainting masks: repeatable for a seed, the same at training and test time, of the sizes asked for,
and a hole as large as the image refused in one sentence."""
from __future__ import annotations

import pytest
import torch

from gankit.data.masks import MASK_KINDS, MaskGenerator, composite
from gankit.errors import GankitError


def draw(kind: str, seed: int, n: int = 6, side: int = 32, **sizes) -> torch.Tensor:
    return MaskGenerator(kind, **sizes)(n, side, torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("kind", MASK_KINDS)
def test_the_same_seed_gives_the_same_masks(kind):
    masks = draw(kind, seed=0)
    assert masks.shape == (6, 1, 32, 32) and masks.dtype == torch.float32
    assert set(masks.unique().tolist()) == {0.0, 1.0}
    assert torch.equal(masks, draw(kind, seed=0))
    if kind != "center":
        assert not torch.equal(masks, draw(kind, seed=1))


@pytest.mark.parametrize("kind", MASK_KINDS)
def test_training_and_test_draws_agree(kind):
    """Training draws from the global random state the trainer seeds; evaluation hands the same
    generator a seeded torch.Generator of its own: one seed, one set of masks."""
    generator = MaskGenerator(kind)
    torch.manual_seed(3)
    during_training = generator(4, 16)
    assert torch.equal(during_training, generator(4, 16, torch.Generator().manual_seed(3)))


def test_a_center_hole_is_the_centred_square_of_the_share_asked_for():
    expected = torch.zeros(32, 32)
    expected[8:24, 8:24] = 1  # 0.5 x 32 = 16 pixels, centred
    assert all(torch.equal(mask[0], expected) for mask in draw("center", seed=0, n=3))
    small = draw("center", seed=0, n=1, side=28, mask_size=0.25)[0, 0]  # 7 pixels, rows and columns 10..16
    assert small.sum() == 49 and small[10:17, 10:17].all()


def test_block_holes_are_squares_of_that_size_in_varying_places():
    masks = draw("block", seed=0, n=40, side=32, mask_size=0.25)[:, 0]
    corners = set()
    for mask in masks:
        rows, cols = mask.any(1).nonzero().squeeze(1), mask.any(0).nonzero().squeeze(1)
        assert mask.sum() == 64 and len(rows) == len(cols) == 8  # one solid 8x8 square inside the image
        corners.add((rows[0].item(), cols[0].item()))
    assert len(corners) > 20


def test_strokes_cover_more_when_wider_or_more_numerous_and_leave_context():
    coverage = draw("strokes", seed=0, n=200).mean((1, 2, 3))
    assert (coverage > 0).all() and (coverage < 0.8).all()
    assert draw("strokes", seed=0, n=200, stroke_width=0.2).mean() > 1.5 * coverage.mean()
    assert draw("strokes", seed=0, n=200, strokes=8).mean() > 1.5 * coverage.mean()
    one = draw("strokes", seed=0, n=1, strokes=1, stroke_width=0.05)  # at least a pixel wide
    assert one.sum() > 0


@pytest.mark.parametrize("sizes,fragment", [({"mask_size": 1.5}, "at least as large as the image"),
                                            ({"mask_size": 1.0}, "at least as large as the image"),
                                            ({"stroke_width": 2.0}, "as wide as the image or wider"),
                                            ({"mask_size": 0.0}, "must be positive")])
def test_a_mask_the_size_of_the_image_or_larger_is_one_clear_sentence(sizes, fragment):
    with pytest.raises(GankitError, match=fragment) as error:
        MaskGenerator("center", **sizes)
    assert str(error.value).count(". ") == 0 and str(error.value).endswith(".")


def test_a_share_that_rounds_to_the_whole_image_is_refused_when_the_size_is_known():
    generator = MaskGenerator("center", mask_size=0.95)
    assert generator(1, 32).sum() == 30 * 30
    with pytest.raises(GankitError, match="8 pixels wide in a 8x8 image"):
        generator(1, 8)


def test_composite_keeps_the_known_pixels_and_takes_the_fill_in_the_hole():
    known, filled = torch.full((1, 2, 2, 2), 3.0), torch.full((1, 2, 2, 2), -1.0)
    mask = torch.tensor([[1.0, 0.0], [0.0, 0.0]]).view(1, 1, 2, 2)
    expected = torch.tensor([[-1.0, 3.0], [3.0, 3.0]]).expand(1, 2, 2, 2)
    assert torch.equal(composite(known, filled, mask), expected)

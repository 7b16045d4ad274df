"""The inpainting family (context-encoder): the masked L2 by hand, shapes and the composite, the data mean
at G's input, one CPU training step, the evaluation's keys and hand-checked scores, and a tiny learning test.

The learning test trains tiny nets (width 8, a 32-number code) for 400 rounds of batch 32 on 2,000
MNIST digits at 16x16, centre holes of a quarter of the image, and scores the first 500 test digits.
Filling the hole with the data mean leaves an L1 error of 0.295 per hole pixel; the trained model's
fill 0.19-0.20 (seeds 0-2 on a 2-core AMD EPYC, one thread: about 5 s each).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from gankit.config import resolve
from gankit.data import DataSpec, load_dataset, resized, uint8_to_float
from gankit.data.masks import MaskGenerator
from gankit.errors import GankitError
from gankit.losses import masked_l2
from gankit.metrics import evaluate
from gankit.metrics.inpainting import (
    MASK_SEED,
    biharmonic,
    evaluation_masks,
    hole_scores,
    inpaint_all,
    mean_filled,
)
from gankit.registry import all_models, get_model
from gankit.train.trainer import Trainer

TINY = {"width": 4, "bottleneck": 16}
QUIET = {"eval_samples": 0, "sample_every": 100000, "checkpoint_every": 100000, "log_every": 100000,
         "precision": "fp32"}


def build(shape=(1, 32, 32), **options):
    cls = get_model("context-encoder")
    spec = DataSpec("mnist", "image", shape, 10)
    return cls(resolve({"model": "context-encoder", "options": {**TINY, **options}}, cls.Options).options, spec)


def trainer(tmp_path, data, steps=1, batch_size=8, options=None, **train):
    tree = {"model": "context-encoder", "data": {"name": data.spec.name},
            "train": {"steps": steps, "batch_size": batch_size, **QUIET, **train}, "options": options or TINY}
    return Trainer(resolve(tree, get_model("context-encoder").Options), tmp_path / "run", dataset=data,
                   notify=lambda message: None)


# --- the masked L2 ---------------------------------------------------------------------------------

def test_masked_l2_by_hand():
    prediction = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).view(1, 1, 2, 2)
    mask = torch.tensor([[1.0, 0.0], [0.0, 1.0]]).view(1, 1, 2, 2)
    assert masked_l2(prediction, torch.zeros_like(prediction), mask).item() == pytest.approx((1 + 16) / 2)
    # two channels share the mask: (1 + 16 + 2^2 + 0) over 4 hole elements
    two = torch.cat([prediction, torch.tensor([[2.0, 9.0], [9.0, 0.0]]).view(1, 1, 2, 2)], 1)
    assert masked_l2(two, torch.zeros_like(two), mask).item() == pytest.approx(21 / 4)
    # pooled over the batch: a 1-pixel hole off by 2 and a 3-pixel hole off by 1: (4 + 3) / 4, not (4 + 1) / 2
    target = torch.zeros(2, 1, 2, 2)
    holes = torch.tensor([[1.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 0.0]]).view(2, 1, 2, 2)
    guess = torch.tensor([[2.0, 5.0, 5.0, 5.0], [1.0, -1.0, 1.0, 7.0]]).view(2, 1, 2, 2)
    assert masked_l2(guess, target, holes).item() == pytest.approx(7 / 4)
    assert masked_l2(guess, target, torch.zeros_like(holes)).item() == 0.0


def test_masked_l2_against_numpy_loops():
    rng = np.random.default_rng(0)
    prediction, target = rng.normal(size=(3, 2, 4, 4)), rng.normal(size=(3, 2, 4, 4))
    mask = (rng.random((3, 1, 4, 4)) < 0.4).astype(float)
    total, count = 0.0, 0
    for i, c, h, w in np.ndindex(*prediction.shape):
        if mask[i, 0, h, w]:
            total += (prediction[i, c, h, w] - target[i, c, h, w]) ** 2
            count += 1
    as_torch = [torch.from_numpy(a) for a in (prediction, target, mask)]
    assert masked_l2(*as_torch).item() == pytest.approx(total / count)


# --- the model -------------------------------------------------------------------------------------

def test_context_encoder_is_registered_in_the_inpainting_family():
    cls = all_models()["context-encoder"]
    assert cls.family == "inpainting" and cls.paper.startswith("Pathak") and cls.summary
    assert "reference" in __import__(cls.__module__, fromlist=["x"]).__doc__


@pytest.mark.parametrize("shape,options", [((1, 32, 32), {}), ((3, 16, 16), {"mask_channel": True}),
                                           ((1, 8, 8), {"mask": "strokes"})])
def test_inpaint_keeps_the_context_and_fills_the_hole(shape, options):
    model = build(shape, **options).eval()
    x = torch.rand(3, *shape) * 2 - 1
    mask = model.draw_masks(3)
    with torch.no_grad():
        filled, predicted = model.inpaint(x, mask), model.predict(model.context(x, mask), mask)
    assert filled.shape == predicted.shape == x.shape and predicted.abs().max() <= 1
    outside, inside = (mask == 0).expand_as(x), (mask == 1).expand_as(x)
    assert torch.equal(filled[outside], x[outside]) and torch.equal(filled[inside], predicted[inside])
    assert model.D(x).shape == (3,)


def test_the_hole_is_filled_with_the_running_mean_of_the_training_images():
    model = build().train()
    mask = MaskGenerator("center")(1, 32)
    model.context(torch.full((2, 1, 32, 32), 0.5), mask.expand(2, -1, -1, -1))
    context = model.context(torch.full((6, 1, 32, 32), -0.5), mask.expand(6, -1, -1, -1))
    assert model.mean.item() == pytest.approx((2 * 0.5 - 6 * 0.5) / 8) and model.images_seen.item() == 8
    assert context[0, 0, 16, 16].item() == pytest.approx(-0.25) and context[0, 0, 0, 0].item() == -0.5
    model.eval().context(torch.ones(4, 1, 32, 32), mask.expand(4, -1, -1, -1))  # eval mode: no update
    assert model.images_seen.item() == 8 and "mean" in model.state_dict()


def test_models_without_d_and_refusals():
    assert [p.name for p in build(adversarial_weight=0.0).players()] == ["G"]
    assert not hasattr(build(adversarial_weight=0.0), "D")
    assert [p.name for p in build().players()] == ["D", "G"]
    with pytest.raises(GankitError, match="fills holes in images rather than drawing"):
        build().sample(4)
    with pytest.raises(GankitError, match="at least as large as the image"):
        build(mask_size=1.5)
    with pytest.raises(GankitError, match="8 pixels wide in a 8x8 image"):
        build((1, 8, 8), mask_size=0.95)
    with pytest.raises(ValueError, match="one domain"):
        get_model("context-encoder")(build().options, DataSpec("a>b", "image", (1, 32, 32), shape_b=(1, 32, 32)))


def test_training_and_evaluation_draw_from_one_mask_generator():
    model = build(mask="block")
    torch.manual_seed(MASK_SEED)  # as the trainer seeds the global state a training step draws from
    assert torch.equal(model.draw_masks(5), evaluation_masks(model, 5))


def digits16():
    return resized(load_dataset("digits"), 16)


def test_one_step_updates_every_player_and_pictures_input_masked_filled(tmp_path):
    run = trainer(tmp_path, digits16())
    before = {p.name: [w.detach().clone() for w in p.parameters()] for p in run.players}
    run.fit(progress=False)
    for player in run.players:
        assert all(not torch.equal(old, new) for old, new in zip(before[player.name], player.parameters()))
    assert run.model.images_seen.item() == 16  # one real batch of 8 in D's step, one in G's
    from PIL import Image

    with Image.open(tmp_path / "run" / "samples" / "latest.png") as picture:  # 3 rows of 8 cells of 32 + padding
        assert picture.size == (8 * 33 + 1, 3 * 33 + 1)


def test_ema_is_refused(tmp_path):
    with pytest.raises(GankitError, match="not offered for inpainting models"):
        trainer(tmp_path, digits16(), ema_decay=0.9)


# --- the evaluation --------------------------------------------------------------------------------

def test_hole_scores_by_hand():
    truth = torch.zeros(2, 1, 4, 4)
    mask = torch.zeros(2, 1, 4, 4)
    mask[:, :, 1:3, 1:3] = 1
    off = truth + 0.2 * mask + 0.9 * (1 - mask)  # 0.1 on the [0, 1] scale in the hole; outside does not count
    scores = hole_scores(off, truth, mask)
    assert scores["hole_l1"] == pytest.approx(0.1) and scores["hole_psnr"] == pytest.approx(20.0)
    assert hole_scores(torch.full_like(truth, 5.0), truth, mask)["hole_l1"] == pytest.approx(0.5)  # clamped to 1


def test_biharmonic_inpainting_restores_a_linear_ramp():
    ramp = torch.linspace(-1, 1, 16).view(1, 1, 1, 16).expand(2, 3, 16, 16).clone()
    mask = MaskGenerator("center")(2, 16)
    filled = biharmonic(torch.where(mask.bool(), torch.zeros_like(ramp), ramp), mask)
    assert filled.shape == ramp.shape and (filled - ramp).abs().max() < 1e-3


def test_eval_scores_the_test_holes_against_the_mean_fill_and_biharmonic(tmp_path):
    data = digits16()
    model = trainer(tmp_path, data).model
    metrics = evaluate(model, data, 40, plot=tmp_path / "eval.png")
    assert metrics["images"] == metrics["biharmonic_images"] == 40 and (tmp_path / "eval.png").is_file()
    for prefix in ("", "mean_fill_", "subset_", "biharmonic_"):
        assert 0 < metrics[f"{prefix}hole_l1"] < 1 and 0 < metrics[f"{prefix}hole_psnr"] < 60
    assert metrics["subset_hole_l1"] == metrics["hole_l1"]  # fewer than 500 images: the subset is all of them
    assert metrics["clean_accuracy"] > 0.9  # the digits classifier on its own images
    for key in ("inpainted_accuracy", "mean_fill_accuracy", "biharmonic_accuracy", "subset_inpainted_accuracy"):
        assert 0 <= metrics[key] <= 1
    truth = uint8_to_float(data.images[:40])
    masks = evaluation_masks(model, 40)
    assert metrics["mean_fill_hole_l1"] == hole_scores(mean_filled(model, truth, masks), truth, masks)["hole_l1"]


def test_context_encoder_fills_mnist_holes_better_than_the_data_mean(tmp_path, shared_data):
    train = resized(load_dataset("mnist", str(shared_data), "train").select(slice(0, 2000)), 16)
    test = resized(load_dataset("mnist", str(shared_data), "test").select(slice(0, 500)), 16)
    run = trainer(tmp_path, train, steps=400, batch_size=32, options={"width": 8, "bottleneck": 32})
    run.fit(progress=False)
    truth = uint8_to_float(test.images)
    masks = evaluation_masks(run.model, len(truth))
    model_l1 = hole_scores(inpaint_all(run.model, truth, masks), truth, masks)["hole_l1"]
    mean_l1 = hole_scores(mean_filled(run.model, truth, masks), truth, masks)["hole_l1"]
    assert model_l1 < 0.8 * mean_l1, (model_l1, mean_l1)


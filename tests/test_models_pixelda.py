"""PixelDA: its loss terms by hand, shapes, one CPU training step, the source-only ablation, label
hygiene, and a tiny adaptation test.

The adaptation test adapts scikit-learn's 8x8 digits (enlarged to 32x32) to their negatives, a
target whose labels the model never sees: a classifier trained on the digits alone reads few
negatives right (seeds 0-2 on a 2-core AMD EPYC, one thread, 150 rounds of batch 16: 12-19%), while
PixelDA's T, trained on adapted images, reads most of them (81-89%).
"""
from __future__ import annotations

import math

import pytest
import torch

from gankit.config import resolve
from gankit.data import DataSpec, ImageDataset, load_dataset, resized, uint8_to_float
from gankit.data.translation import TwoDomainDataset
from gankit.errors import GankitError
from gankit.losses import pairwise_mse, source_and_adapted_ce
from gankit.registry import get_model
from test_models_translation import assert_fit_updates_every_player, trainer


def test_pairwise_mse_by_hand():
    x = torch.tensor([1.0, 2.0, 3.0, 4.0]).view(1, 1, 2, 2)
    # d = (1, 2, 3, 4), k = 4: 30 / 4 - 10^2 / 16 = 7.5 - 6.25
    assert pairwise_mse(x, torch.zeros_like(x)).item() == pytest.approx(1.25)
    # masked to (1, 2): k = 2: 5 / 2 - 3^2 / 4
    mask = torch.tensor([1.0, 1.0, 0.0, 0.0]).view(1, 1, 2, 2)
    assert pairwise_mse(x, torch.zeros_like(x), mask).item() == pytest.approx(0.25)
    # a constant shift costs nothing; the batch mean of two images is their average
    assert pairwise_mse(x + 0.7, x).item() == pytest.approx(0.0, abs=1e-6)
    both = torch.cat([x, 2 * x])  # the second: d = (2, 4, 6, 8), 120 / 4 - 400 / 16 = 5
    assert pairwise_mse(both, torch.zeros_like(both)).item() == pytest.approx((1.25 + 5.0) / 2)


def test_source_and_adapted_ce_by_hand():
    adapted = torch.tensor([[0.0, 0.0], [math.log(3.0), 0.0]])
    source = torch.tensor([[math.log(3.0), 0.0], [0.0, 0.0]])
    labels = torch.tensor([0, 1])
    # adapted: -log 1/2 and -log 1/4; source: -log 3/4 and -log 1/2; each term a batch mean
    expected = (math.log(2) + math.log(4)) / 2 + (math.log(4 / 3) + math.log(2)) / 2
    assert source_and_adapted_ce(adapted, source, labels).item() == pytest.approx(expected)


def build(channels=(1, 3), **options):
    spec = DataSpec("a>b", "image", (channels[0], 32, 32), num_classes=10, shape_b=(channels[1], 32, 32),
                    paired=False)
    tree = {"model": "pixelda", "options": {"width": 8, "blocks": 1, **options}}
    return get_model("pixelda")(resolve(tree, get_model("pixelda").Options).options, spec)


def test_shapes_of_the_three_networks():
    model = build()
    grey = torch.randn(4, 1, 32, 32)
    adapted = model.translate(grey)
    assert adapted.shape == (4, 3, 32, 32) and adapted.abs().max() <= 1
    assert model.D(adapted).shape == (4, 1)
    assert model.classify(grey).shape == model.classify(adapted).shape == (4, 10)
    # the noise matters: one image, two draws of z, two adaptations
    assert not torch.equal(model.translate(grey[:1]), model.translate(grey[:1]))


def test_bad_options_and_channels_are_refused():
    with pytest.raises(ValueError, match="grey or have"):
        build(channels=(3, 1))
    with pytest.raises(GankitError, match="task_weight"):
        build(task_weight=0.0)


def negatives() -> ImageDataset:
    digits = resized(load_dataset("digits"), 32)
    return ImageDataset("digits-negative", 255 - digits.images, digits.labels, 10)


def adaptation_task() -> TwoDomainDataset:
    return TwoDomainDataset("digits>negative", resized(load_dataset("digits"), 32), negatives(), paired=False)


def test_one_step_updates_every_player_and_never_sees_target_labels(tmp_path, monkeypatch):
    seen = []
    model_cls = get_model("pixelda")
    original = model_cls.g_loss
    monkeypatch.setattr(model_cls, "g_loss", lambda self, batch: seen.append(batch) or original(self, batch))
    run = trainer(tmp_path, "pixelda", adaptation_task(), options={"blocks": 1})
    assert [p.name for p in run.players] == ["D", "G"]
    assert_fit_updates_every_player(run)
    assert seen and all(batch.y is not None and batch.y_b is None for batch in seen)


def test_source_only_trains_the_classifier_alone(tmp_path):
    run = trainer(tmp_path, "pixelda", adaptation_task(), options={"source_only": True})
    assert [p.name for p in run.players] == ["T"] and not hasattr(run.model, "G")
    assert run.model.directions() == ()


def target_accuracy(model) -> float:
    target = negatives()  # the images T adapted to, but never their labels (digits has no test split)
    with torch.no_grad():
        predictions = model.eval().classify(uint8_to_float(target.images)).argmax(1)
    return (predictions == target.labels).float().mean().item()


def test_pixelda_adapts_where_the_source_only_classifier_fails(tmp_path):
    accuracy = {}
    for source_only in (False, True):
        run = trainer(tmp_path / str(source_only), "pixelda", adaptation_task(), steps=150, batch_size=16,
                      options={"source_only": source_only})
        run.fit(progress=False)
        accuracy[source_only] = target_accuracy(run.model)
    assert accuracy[True] < 0.4 < 0.7 < accuracy[False], accuracy

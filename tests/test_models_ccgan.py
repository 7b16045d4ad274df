"""ccgan (the inpainting family's semi-supervised model): its D and G losses against NumPy with stub networks,
shapes, one CPU training step, the evaluation's keys (inpainting scores plus the semi-supervised test error
beside the supervised-only baseline), and a tiny learning test.

The learning test trains tiny nets (width 8, a 32-number code) for 300 rounds of batch 32 on 4,000 MNIST
digits at 16x16 with 100 labels, holes of a quarter of the image at random places. On seeds 0-2 (2-core
AMD EPYC, one thread, about 6 s each with scoring) D's classifier errs on 25-27% of the first 1,000 test digits, and
the shipped MNIST classifier reads 55-59% of the first 500 inpainted test digits right against 33% with
the holes filled by the data mean (94% clean).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from gankit.classifier import fuse_batchnorm, load_classifier
from gankit.config import resolve
from gankit.data import Batch, DataSpec, load_dataset, resized, uint8_to_float
from gankit.errors import GankitError
from gankit.metrics import evaluate
from gankit.metrics.features import classify
from gankit.metrics.inpainting import evaluation_masks, inpaint_all, mean_filled
from gankit.metrics.tasks import TaskData, predict
from gankit.registry import all_models, get_model
from gankit.train.trainer import Trainer

TINY = {"width": 4, "bottleneck": 16}
QUIET = {"eval_samples": 0, "sample_every": 100000, "checkpoint_every": 100000, "log_every": 100000,
         "precision": "fp32"}


def build(shape=(1, 32, 32), classes=10, **options):
    cls = get_model("ccgan")
    return cls(resolve({"model": "ccgan", "options": {**TINY, **options}}, cls.Options).options,
               DataSpec("mnist", "image", shape, classes))


def trainer(tmp_path, data, steps=1, labels=20, options=None, batch_size=8, **train):
    tree = {"model": "ccgan", "data": {"name": data.spec.name, "labels": labels},
            "train": {"steps": steps, "batch_size": batch_size, **QUIET, **train}, "options": options or TINY}
    return Trainer(resolve(tree, get_model("ccgan").Options), tmp_path / "run", dataset=data,
                   notify=lambda message: None)


def digits16():
    return resized(load_dataset("digits"), 16)


# --- the losses, with networks whose outputs are known by hand --------------------------------------

class MeanLogits(nn.Module):
    """A stub D: class k's logit is (k + 1) x the image's mean pixel."""

    def forward(self, x):
        return x.mean((1, 2, 3))[:, None] * torch.arange(1.0, 4.0)


def _softplus(v):
    return np.log1p(np.exp(v))


def test_d_and_g_losses_against_numpy_with_stub_networks():
    model = build((1, 8, 8), classes=3, mask="center", unsupervised_weight=0.5).eval()
    model.D = MeanLogits()
    model.predict = lambda context, mask: torch.full_like(context, 0.5)  # G fills every hole with 0.5
    rng = np.random.default_rng(0)
    x, labelled = rng.uniform(-1, 1, (4, 1, 8, 8)), rng.uniform(-1, 1, (2, 1, 8, 8))
    y = np.array([2, 0])
    batch = Batch(torch.tensor(x, dtype=torch.float32),
                  labelled=Batch(torch.tensor(labelled, dtype=torch.float32), torch.tensor(y)))
    filled = x.copy()
    filled[:, :, 2:6, 2:6] = 0.5  # the centre hole of a quarter of the image, G's fill composited in

    def logits(images):
        return images.mean((1, 2, 3))[:, None] * np.arange(1, 4)

    def realness(images):  # log of the summed exp of the class logits: log p(real) / p(fake) with l_fake = 0
        return np.log(np.exp(logits(images)).sum(1))

    supervised = np.mean([np.log(np.exp(row).sum()) - row[label] for row, label in zip(logits(labelled), y)])
    unsupervised = _softplus(-realness(x)).mean() + _softplus(realness(filled)).mean()
    d_loss, d_logs = model.d_loss(batch)
    assert d_loss.item() == pytest.approx(supervised + 0.5 * unsupervised, rel=1e-5)
    assert d_logs["supervised"].item() == pytest.approx(supervised, rel=1e-5)
    g_loss, _ = model.g_loss(batch)
    assert g_loss.item() == pytest.approx(_softplus(-realness(filled)).mean(), rel=1e-5)


# --- the model -------------------------------------------------------------------------------------

def test_ccgan_is_a_semi_supervised_inpainting_model():
    cls = all_models()["ccgan"]
    assert cls.family == "inpainting" and cls.label_use == "some" and cls.task_metrics == ("test_error",)
    assert cls.paper.startswith("Denton") and "reference" in __import__(cls.__module__, fromlist=["x"]).__doc__
    model = build()
    assert model.masks.kind == "block" and [p.name for p in model.players()] == ["D", "G"]
    x = torch.rand(3, 1, 32, 32) * 2 - 1
    mask = model.draw_masks(3)
    filled = model.eval().inpaint(x, mask)
    assert filled.shape == x.shape and torch.equal(filled[(mask == 0).expand_as(x)], x[(mask == 0).expand_as(x)])
    assert model.D(x).shape == model.classify(x).shape == (3, 10) and model.num_labels == 10
    fresh = model.fresh_classifier()
    assert fresh is not model.D and fresh(x).shape == (3, 10)
    with pytest.raises(GankitError, match="fills holes in images rather than drawing"):
        model.sample(2)
    with pytest.raises(ValueError, match="one domain"):
        get_model("ccgan")(model.options, DataSpec("a>b", "image", (1, 32, 32), 10, shape_b=(1, 32, 32)))


def test_one_step_updates_both_players_from_the_labelled_view(tmp_path):
    run = trainer(tmp_path, digits16())
    before = {p.name: [w.detach().clone() for w in p.parameters()] for p in run.players}
    batch = run.batches.next()
    assert batch.y is None and len(batch.labelled) == 8 and batch.labelled.y is not None
    run.fit(progress=False)
    for player in run.players:
        assert all(not torch.equal(old, new) for old, new in zip(before[player.name], player.parameters()))
    from PIL import Image

    with Image.open(tmp_path / "run" / "samples" / "latest.png") as picture:  # input / masked / filled rows
        assert picture.size == (8 * 33 + 1, 3 * 33 + 1)


def test_eval_adds_the_semi_supervised_test_error_to_the_inpainting_scores(tmp_path, monkeypatch):
    monkeypatch.setattr("gankit.metrics.tasks.BASELINE_STEPS", 20)
    data = digits16()
    model = trainer(tmp_path, data).model.eval()
    metrics = evaluate(model, data, 40, task_data=TaskData(data, train=lambda: data, labels=20, seed=0))
    assert {"hole_l1", "hole_psnr", "mean_fill_hole_l1", "biharmonic_hole_psnr", "inpainted_accuracy"} <= set(metrics)
    assert metrics["labels"] == 20 and 0 <= metrics["baseline_test_error"] <= 1
    expected = (predict(model.classify, data.images, model.device) != data.labels).float().mean().item()
    assert metrics["test_error"] == pytest.approx(expected)


def test_ccgan_fills_holes_readably_and_classifies_from_100_labels(tmp_path, shared_data):
    train = resized(load_dataset("mnist", str(shared_data), "train").select(slice(0, 4000)), 16)
    test = resized(load_dataset("mnist", str(shared_data), "test").select(slice(0, 1000)), 16)
    run = trainer(tmp_path, train, steps=300, labels=100, batch_size=32, options={"width": 8, "bottleneck": 32})
    run.fit(progress=False)
    model = run.model.eval()
    error = (predict(model.classify, test.images, model.device) != test.labels).float().mean().item()
    assert error < 0.4, error  # chance: 0.9
    truth, labels = uint8_to_float(test.images[:500]), test.labels[:500]
    masks = evaluation_masks(model, len(truth))
    net = fuse_batchnorm(load_classifier("mnist"))

    def accuracy(images):
        return (classify(net, images)[1].argmax(1) == labels).float().mean().item()

    inpainted, mean_fill = accuracy(inpaint_all(model, truth, masks)), accuracy(mean_filled(model, truth, masks))
    assert inpainted > mean_fill + 0.12, (inpainted, mean_fill)

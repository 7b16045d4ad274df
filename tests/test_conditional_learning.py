"""Tiny learning tests for the class-aware models: a few hundred rounds on scikit-learn's 8x8
digits, small nets, and the number each paper is about must move well past chance (0.1 for ten
classes). The full-size results are in the conditional bench suite.

Thresholds sit below the worst of seeds 0-2 measured on a 2-core AMD EPYC (other CPUs round
differently): cgan concat 0.51-0.79 sample accuracy, projection 0.71-0.82, acgan 0.90-0.96; infogan
code recovery >= 0.996, cluster accuracy 0.29-0.39; sgan test error 0.13-0.17 with 50 labels;
clustergan cluster accuracy 0.34-0.40."""
from __future__ import annotations

import pytest
import torch

from gankit.classifier import load_classifier
from gankit.config import resolve
from gankit.data import load_dataset
from gankit.metrics import generate
from gankit.metrics.features import classify
from gankit.metrics.tasks import matched_accuracy, predict
from gankit.registry import get_model
from gankit.train.trainer import Trainer


def train(tmp_path, name, steps, options, labels=None, batch_size=64):
    tree = {"model": name, "data": {"name": "digits", "labels": labels},
            "train": {"steps": steps, "batch_size": batch_size, "eval_samples": 0, "sample_every": 100000,
                      "checkpoint_every": 100000, "log_every": 100000, "precision": "fp32"},
            "options": options}
    trainer = Trainer(resolve(tree, get_model(name).Options), tmp_path / name, notify=lambda message: None)
    trainer.fit(progress=False)
    return trainer.model.eval()


def sample_accuracy(model, per_class=100):
    """The shipped digits classifier's accuracy on samples requested for each class."""
    net = load_classifier("digits")
    labels = torch.arange(10).repeat_interleave(per_class)
    predicted = classify(net, generate(model, len(labels), label=labels))[1].argmax(1)
    return (predicted == labels).float().mean().item()


def cluster_accuracy(model):
    digits = load_dataset("digits")
    return matched_accuracy(predict(model.classify, digits.images, model.device), digits.labels)


@pytest.mark.parametrize("name,options,least", [("cgan", {}, 0.4), ("cgan", {"conditioning": "projection"}, 0.5),
                                                 ("acgan", {}, 0.7)])
def test_conditional_samples_are_of_the_requested_class(tmp_path, name, options, least):
    model = train(tmp_path, name, 300, {"width": 16, "lr": 1e-3, **options})
    assert sample_accuracy(model) > least


def test_infogan_codes_become_recoverable_and_cluster_the_digits(tmp_path):
    model = train(tmp_path, "infogan", 300, {"width": 16, "lr": 1e-3})
    categorical, continuous = model.codes(500)
    with torch.no_grad():
        recovered = model.classify(model.generate(categorical, continuous)).argmax(1)
    assert (recovered == categorical).float().mean().item() > 0.9  # Q reads the code back from G's images
    assert cluster_accuracy(model) > 0.2  # and the codes say something about which digit it is


def test_sgan_beats_chance_from_a_handful_of_labels(tmp_path):
    model = train(tmp_path, "sgan", 300, {"width": 64, "z_dim": 16, "lr": 1e-3}, labels=50)
    digits = load_dataset("digits")
    error = (predict(model.classify, digits.images, model.device) != digits.labels).float().mean().item()
    assert error < 0.3


def test_clustergan_encoder_clusters_the_digits(tmp_path):
    model = train(tmp_path, "clustergan", 200, {"width": 16, "z_dim": 8, "lr": 1e-3, "n_critic": 2})
    assert cluster_accuracy(model) > 0.25

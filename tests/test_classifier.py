"""The shipped feature classifiers: weights, records, accuracy, determinism, CLI."""
from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from gankit.classifier import (CLASSIFIER_DATASETS, DEFAULTS, accuracy, augment, classifier_data, fuse_batchnorm,
                               load_classifier, train_classifier, weights_path)
from gankit.cli import main
from gankit.data import load_dataset
from gankit.errors import GankitError

TARGETS = {"digits": 0.97, "mnist": 0.993, "fashion-mnist": 0.915, "mnist-m": 0.9, "mnist-colour": 0.99,
           "mnist-edges": 0.98, "mnist-colour-attributes": 0.99}


@pytest.mark.parametrize("dataset", CLASSIFIER_DATASETS)
def test_shipped_weights_are_small_and_recorded(dataset):
    path = weights_path(dataset)
    assert path.stat().st_size < 1_000_000
    record = json.loads(path.with_suffix(".json").read_text())
    assert record["command"].startswith("OMP_NUM_THREADS=1 gankit classifier train --data " + dataset)
    assert record["test_accuracy"] >= TARGETS[dataset]
    assert set(load_file(str(path))) == set(load_classifier(dataset).state_dict())


@pytest.mark.parametrize("dataset", CLASSIFIER_DATASETS)
def test_recorded_accuracy_reproduces(dataset, shared_data):
    _, test = classifier_data(dataset, str(shared_data), DEFAULTS[dataset].seed)
    record = json.loads(weights_path(dataset).with_suffix(".json").read_text())
    assert accuracy(load_classifier(dataset), test) == pytest.approx(record["test_accuracy"], abs=1e-5)


def test_mnist_classifier_accepts_32x32(shared_data):
    test = load_dataset("mnist", str(shared_data), "test", image_size=32, download=False)
    assert accuracy(load_classifier("mnist"), test) > 0.99


def test_unknown_classifier_is_a_clear_error():
    with pytest.raises(GankitError, match="ships no classifier"):
        load_classifier("cifar10")


def test_augment_shifts_whole_images():
    image = torch.zeros(64, 1, 9, 9, dtype=torch.uint8)
    image[:, 0, 4, 4] = 255
    shifted = augment(image, 2, False, torch.Generator().manual_seed(0))
    assert shifted.shape == image.shape and (shifted.sum((1, 2, 3)) == 255).all()
    rows, cols = shifted[:, 0].nonzero()[:, 1:].T
    assert (rows - 4).abs().max() == 2 and (cols - 4).abs().max() == 2
    assert len(set(zip(rows.tolist(), cols.tolist()))) > 15  # offsets vary per image


def test_recolour_permutes_channels_or_takes_the_negative():
    images = torch.randint(0, 256, (200, 3, 4, 4), dtype=torch.uint8)
    out = augment(images, 0, False, torch.Generator().manual_seed(0), recolour=True)
    orders = [(0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)]
    seen = set()
    for image, result in zip(images, out):
        matches = [(order, negative) for order in orders for negative in (False, True)
                   if torch.equal(result, 255 - image[list(order)] if negative else image[list(order)])]
        assert len(matches) == 1
        seen.add(matches[0])
    assert len(seen) == 12  # every order, with and without the negative


def test_digits_split_is_stratified_and_disjoint():
    train, test = classifier_data("digits", None, 0)
    assert len(train) + len(test) == 1797
    assert torch.bincount(test.labels).min() >= 35  # a fifth of every class (about 180 each)
    flat = lambda d: {bytes(img.flatten().tolist()) + bytes([int(y)]) for img, y in zip(d.images, d.labels)}
    assert len(flat(train) & flat(test)) < 5  # only the few literally duplicated images may recur


def test_training_is_deterministic_given_the_seed():
    settings = DEFAULTS["digits"]
    short = type(settings)(**{**vars(settings), "epochs": 2})
    quiet = lambda text: None
    first, _ = train_classifier("digits", None, short, quiet)
    second, _ = train_classifier("digits", None, short, quiet)
    other, _ = train_classifier("digits", None, type(settings)(**{**vars(short), "seed": 1}), quiet)
    for key, value in first.state_dict().items():
        assert torch.equal(value, second.state_dict()[key]), key
    assert not torch.equal(first.head.weight, other.head.weight)


def test_cli_trains_and_records(tmp_path, capsys):
    out = tmp_path / "d.safetensors"
    assert main(["classifier", "train", "--data", "digits", "--epochs", "1", "--out", str(out)]) == 0
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["command"].endswith(f"gankit classifier train --data digits --epochs 1 --out {out}")
    assert 0 <= record["test_accuracy"] <= 1 and record["settings"]["epochs"] == 1
    assert load_classifier("digits", out).input_size == 8
    assert main(["classifier", "train", "--data", "cifar10", "--out", str(out)]) == 2
    assert "cifar10" in capsys.readouterr().err


def test_fused_batchnorm_gives_the_same_outputs():
    net = load_classifier("mnist")
    x = torch.rand(64, 1, 32, 32) * 2 - 1
    fused = fuse_batchnorm(net)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fused.modules())
    with torch.no_grad():
        assert torch.allclose(fused(x), net(x), atol=1e-4)
        assert torch.allclose(fused.features(x), net.features(x), atol=1e-4)


def test_the_attribute_classifier_learns_one_class_per_colour_and_background(shared_data):
    _, test = classifier_data("mnist-colour-attributes", str(shared_data), 0)
    _, digits = classifier_data("mnist-colour", str(shared_data), 0)
    assert test.spec.num_classes == 10 and torch.equal(test.images, digits.images)
    # colour x 2 + background: a blue (2) digit on white (1) is class 5
    assert torch.equal(test.labels, digits.attributes[:, 0] * 2 + digits.attributes[:, 1])

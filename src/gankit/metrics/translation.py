"""Scores of the image-to-image family, on translations of the test split.

For each direction a model translates (a2b, and b2a for two-way models), the
first ``n`` test images of the source domain are translated and scored:

- ``label_kept``: the target domain's shipped classifier reads the source
  image's label in its translation (a digit must stay the same digit);
- ``fid``: Frechet distance between that classifier's features of the
  translations and of as many real test images of the target domain;
- ``l1``, ``psnr``, ``ssim`` (paired data): against the ground-truth partner,
  on images scaled to [0, 1] (torchmetrics);
- ``cycle_l1`` (two-way models): E|back(forth(x)) - x| in [-1, 1] units;
- ``diversity`` (multimodal models): the mean distance between the target
  classifier's features of 5 translations of one input, each in a random style
  (over every pair, for the first 1,000 inputs).

Keys are prefixed with the direction: ``a2b_label_kept``, ``b2a_fid``, ... The
task metrics a model lists (gankit.metrics.tasks, e.g. pixelda's
``target_accuracy``) are added unprefixed.

A model that translates between attribute values (stargan) is scored on one
dataset instead (``attribute_metrics``): each of the first ``n`` test images is
translated to a target combination of attributes drawn uniformly from those it
does not have, and scored by

- ``attribute_accuracy``: the shipped attribute classifier
  (mnist-colour-attributes) reads every target attribute in the translation;
  ``<attribute>_accuracy`` per attribute;
- ``label_kept`` and ``fid``: as above, on the dataset's digit classifier;
- ``recon_l1``: E|G(G(x, c), c') - x|, translated back to the source's attributes c'.
"""
from __future__ import annotations

from math import prod
from pathlib import Path
from typing import Optional

import torch
from torch import Tensor

from gankit.classifier import fuse_batchnorm, load_classifier
from gankit.data import ImageDataset, uint8_to_float
from gankit.metrics.features import classify
from gankit.metrics.images import CLASSIFIER_FOR, fid
from gankit.models.base import evaluating

ATTRIBUTE_CLASSIFIER_FOR = {"mnist-colour": "mnist-colour-attributes"}
TARGET_SEED = 0  # draws the evaluation's target attributes
GRID_COLUMNS = 8
STYLE_ROWS = 3  # a multimodal model's picture: each input above this many translations, one style per row
DIVERSITY_INPUTS, DIVERSITY_STYLES = 1000, 5


@torch.no_grad()
def translate_all(model, images: Tensor, direction: str = "a2b", batch_size: int = 250,
                  style: Optional[Tensor] = None, target: Optional[Tensor] = None) -> Tensor:
    """``model`` (in eval mode) applied to float images in batches; the result on the CPU in float32.
    Multimodal models take ``style``, one code (1, style_dim) for every image, or draw one per image;
    stargan takes ``target``, (N, A) attribute values, one row per image."""
    def translate(start: int) -> Tensor:
        x = images[start:start + batch_size].to(model.device)
        if style is not None:
            return model.translate(x, direction, style=style.to(x.device).expand(len(x), -1))
        if target is not None:
            return model.translate(x, direction, target=target[start:start + batch_size].to(x.device))
        return model.translate(x, direction)

    with evaluating(model):
        return torch.cat([translate(start).float().cpu() for start in range(0, len(images), batch_size)])


def _domains(data, direction: str) -> tuple[ImageDataset, ImageDataset]:
    """(source, target) of ``direction`` in two-domain ``data``."""
    return (data.a, data.b) if direction == "a2b" else (data.b, data.a)


def translation_metrics(model, test, n: int, plot: Optional[Path] = None, task_data=None) -> dict:
    """Every score that fits ``model`` and its ``test`` data (two domains, or one with attributes), on up
    to ``n`` images per direction, plus the task metrics ``model`` lists (gankit.metrics.tasks) on
    ``task_data``."""
    from gankit.metrics.tasks import TaskData, task_metrics

    metrics = (attribute_metrics if model.translates_attributes else direction_metrics)(model, test, n)
    if model.task_metrics:
        metrics.update(task_metrics(model, task_data or TaskData(test, train=lambda: test), None, n))
    if plot is not None and model.directions():
        from gankit.visual import save_samples

        images, per_row = translation_grid(model, test)
        save_samples(images, plot, nrow=per_row)
    return metrics


def direction_metrics(model, test, n: int) -> dict:
    """The scores of each direction ``model`` translates two-domain ``test`` data in, prefixed by it."""
    metrics = {}
    for direction in model.directions():
        source, target = _domains(test, direction)
        k = min(n, len(source), len(target))
        inputs = uint8_to_float(source.images[:k])
        outputs = translate_all(model, inputs, direction)
        name = target.spec.name
        net = fuse_batchnorm(load_classifier(CLASSIFIER_FOR[name])) if name in CLASSIFIER_FOR else None
        scores = {"images": k, **_target_scores(net, outputs, source.labels, target, k)}
        if test.spec.paired:
            scores.update(paired_scores(outputs, uint8_to_float(target.images[:k])))
        if model.multimodal and net is not None:
            scores["diversity"] = diversity(model, inputs[:DIVERSITY_INPUTS], direction, net)
        if model.two_way:
            back = "b2a" if direction == "a2b" else "a2b"
            scores["cycle_l1"] = (translate_all(model, outputs, back) - inputs).abs().mean().item()
        metrics.update({f"{direction}_{key}": value for key, value in scores.items()})
    return metrics


def _target_scores(net, outputs: Tensor, labels: Optional[Tensor], target: ImageDataset, k: int) -> dict:
    """fid and label_kept on the target domain's classifier ``net`` (None: there is none)."""
    if net is None:
        return {"unavailable": f"gankit ships no classifier for {target.spec.name}, so label_kept and fid are "
                               f"unavailable"}
    fake_features, fake_logits = classify(net, outputs)
    real_features, _ = classify(net, uint8_to_float(target.images[:k]))
    scores = {"fid": fid(real_features, fake_features)}
    if labels is not None:
        scores["label_kept"] = (fake_logits.argmax(1) == labels[:k]).float().mean().item()
    return scores


def attribute_metrics(model, test: ImageDataset, n: int) -> dict:
    """stargan's scores on the first ``n`` test images, each translated to attributes it does not have."""
    from gankit.data.translation import attribute_combinations, combination_attributes

    k = min(n, len(test))
    sizes, names = model.sizes, [name for name, _ in test.spec.attributes]
    source, inputs = test.attributes[:k], uint8_to_float(test.images[:k])
    combinations = attribute_combinations(source, sizes)
    # a uniform draw among the other prod(sizes) - 1 combinations
    shift = torch.randint(1, prod(sizes), (k,), generator=torch.Generator().manual_seed(TARGET_SEED))
    target = combination_attributes((combinations + shift) % prod(sizes), sizes)
    outputs = translate_all(model, inputs, target=target)
    scores = {"images": k, "recon_l1": (translate_all(model, outputs, target=source) - inputs).abs().mean().item()}
    name = test.spec.name
    if name not in ATTRIBUTE_CLASSIFIER_FOR:
        scores["unavailable"] = (f"gankit ships no attribute classifier for {name}, so attribute_accuracy, "
                                 f"label_kept and fid are unavailable")
        return scores
    reader = fuse_batchnorm(load_classifier(ATTRIBUTE_CLASSIFIER_FOR[name]))
    read = combination_attributes(classify(reader, outputs)[1].argmax(1), sizes)
    scores["attribute_accuracy"] = (read == target).all(1).float().mean().item()
    scores.update({f"{attribute}_accuracy": (read[:, i] == target[:, i]).float().mean().item()
                   for i, attribute in enumerate(names)})
    digits = fuse_batchnorm(load_classifier(CLASSIFIER_FOR[name]))
    return {**scores, **_target_scores(digits, outputs, test.labels, test, k)}


def attribute_grid(model, data: ImageDataset, columns: int = GRID_COLUMNS) -> tuple[Tensor, int]:
    """(images, per row) for stargan's picture: a row of inputs, then one row per value of each attribute,
    translating every input to that value with its other attributes kept."""
    inputs, source = uint8_to_float(data.images[:columns]), data.attributes[:columns]
    rows = [inputs]
    for i, size in enumerate(model.sizes):
        for value in range(size):
            target = source.clone()
            target[:, i] = value
            rows.append(translate_all(model, inputs, target=target))
    return torch.cat(rows), columns


def diversity(model, inputs: Tensor, direction: str, net, styles: int = DIVERSITY_STYLES) -> float:
    """Mean distance between the target classifier ``net``'s features of ``styles`` translations of one
    input (each with its own random style), over every pair and input: 0 for a model that ignores its style."""
    features = torch.stack([classify(net, translate_all(model, inputs, direction))[0] for _ in range(styles)], 1)
    pairs = torch.cdist(features, features)  # (inputs, styles, styles)
    return (pairs.sum((1, 2)) / (styles * (styles - 1))).mean().item()


def paired_scores(outputs: Tensor, truth: Tensor) -> dict:
    """L1 in [-1, 1] units; PSNR (dB) and SSIM on [0, 1] images."""
    from torchmetrics.functional.image import peak_signal_noise_ratio, structural_similarity_index_measure

    fake01, true01 = outputs.add(1).div(2).clamp(0, 1), truth.add(1).div(2)
    return {"l1": (outputs - truth).abs().mean().item(),
            "psnr": float(peak_signal_noise_ratio(fake01, true01, data_range=1.0)),
            "ssim": float(structural_similarity_index_measure(fake01, true01, data_range=1.0))}


def as_rgb(images: Tensor) -> Tensor:
    return images.expand(-1, 3, -1, -1) if images.shape[1] == 1 else images


def translation_grid(model, data, columns: int = GRID_COLUMNS) -> tuple[Tensor, int]:
    """(images, per row) for a picture: for each direction a row of inputs above a row of their
    translations (the first ``columns`` images of each domain; grey shown as RGB next to colour).
    A multimodal model's inputs are above ``STYLE_ROWS`` rows, each translating them in one random style;
    stargan's above a row per attribute value (``attribute_grid``)."""
    if model.translates_attributes:
        return attribute_grid(model, data, columns)
    rows = []
    for direction in model.directions():
        source, _ = _domains(data, direction)
        inputs = uint8_to_float(source.images[:columns])
        rows.append(inputs)
        if model.multimodal:
            rows += [translate_all(model, inputs, direction, style=model.draw_styles(1)) for _ in range(STYLE_ROWS)]
        else:
            rows.append(translate_all(model, inputs, direction))
    if len({row.shape[1] for row in rows}) > 1:
        rows = [as_rgb(row) for row in rows]
    return torch.cat(rows), columns

"""Scores of the coupled family (cogan): pairs of images drawn from one z, read by the shipped classifiers.

Each domain has a reader where gankit ships a classifier that can read it: the
domain's own (mnist, mnist-edges, mnist-m, ...), or, for a domain a fixed map
turns back into digits, the MNIST classifier after that map (mnist-negative:
the negative of the negative, -x on the [-1, 1] scale, 255 - x in bytes).
For ``n`` pairs (G_a(z), G_b(z)):

- ``pair_consistency``: the share of pairs whose two images the readers give
  the same label: the two images show one digit, in the two domains' styles;
- ``chance_consistency``: the share two unrelated images with the same label
  frequencies would get, sum_k p_a(k) p_b(k) (about 0.1 for ten balanced
  classes): what a pair of uncoupled GANs scores;
- ``a_fid``, ``b_fid``: each domain's samples against as many of its test
  images (at most the test split), on its reader's features.

A domain without a reader has no FID, and without two readers there is no pair
consistency; ``unavailable`` says which.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor

from gankit.classifier import fuse_batchnorm, load_classifier
from gankit.data import uint8_to_float
from gankit.metrics.features import classify
from gankit.metrics.images import CLASSIFIER_FOR, fid
from gankit.metrics.translation import as_rgb
from gankit.models.base import evaluating

# Domains a shipped classifier reads once a fixed map has turned their images back into its own.
READ_BACK = {"mnist-negative": ("mnist", torch.neg)}
GRID_COLUMNS, GRID_ROWS = 8, 4  # pictures: 4 rows of 8 pairs, each an A row above a B row
Reader = Callable[[Tensor], "tuple[Tensor, Tensor]"]


def reader(domain: str) -> Reader | None:
    """images in [-1, 1] -> (features, logits) of the classifier that reads ``domain``; None where there is none."""
    if domain in READ_BACK:
        name, back = READ_BACK[domain]
    elif domain in CLASSIFIER_FOR:
        name, back = CLASSIFIER_FOR[domain], None
    else:
        return None
    net = fuse_batchnorm(load_classifier(name))
    return lambda images: classify(net, images if back is None else back(images))


@torch.no_grad()
def sample_pairs(model, n: int, batch_size: int = 500) -> tuple[Tensor, Tensor]:
    """``n`` pairs from ``model`` (in eval mode), on the CPU in float32: (domain A images, domain B images)."""
    with evaluating(model):
        pairs = [model.sample(min(batch_size, n - start)) for start in range(0, n, batch_size)]
    return tuple(torch.cat([pair[d].float().cpu() for pair in pairs]) for d in (0, 1))


def coupled_metrics(model, test, n: int, plot: Path | None = None) -> dict:
    """Pair consistency and per-domain FID of ``n`` pairs against two-domain ``test`` data."""
    samples = sample_pairs(model, n)
    metrics, labels, missing = {"pairs": n}, [], []
    for domain, fake, real in zip("ab", samples, (test.a, test.b)):
        read = reader(real.spec.name)
        if read is None:
            missing.append(real.spec.name)
            continue
        fake_features, fake_logits = read(fake)
        real_features, _ = read(uint8_to_float(real.images[:n]))
        metrics[f"{domain}_fid"] = fid(real_features, fake_features)
        labels.append(fake_logits.argmax(1))
    if len(labels) == 2:
        metrics["pair_consistency"] = (labels[0] == labels[1]).float().mean().item()
        shares = [torch.bincount(read, minlength=10).double() / n for read in labels]
        metrics["chance_consistency"] = float((shares[0] * shares[1]).sum())
    if missing:
        metrics["unavailable"] = (f"gankit ships no classifier that reads {' or '.join(missing)}, so "
                                  f"{'its FID' if len(missing) == 1 else 'their FIDs'} and the pair consistency "
                                  f"are unavailable")
    if plot is not None:
        from gankit.visual import save_samples

        images, per_row = coupled_grid(model)
        save_samples(images, plot, nrow=per_row)
    return metrics


def coupled_grid(model, columns: int = GRID_COLUMNS, rows: int = GRID_ROWS) -> tuple[Tensor, int]:
    """(images, per row) for a picture of ``rows`` x ``columns`` pairs: each row of domain-A images above
    the domain-B images of the same z (grey shown as RGB next to colour)."""
    a, b = sample_pairs(model, rows * columns)
    if a.shape[1] != b.shape[1]:
        a, b = as_rgb(a), as_rgb(b)
    return torch.cat([torch.cat([a[i:i + columns], b[i:i + columns]]) for i in range(0, len(a), columns)]), columns

"""Memorisation check for image-folder runs: are samples closer to the training images than new images are?

Every sample, and every held-out image, is matched to its nearest training
image by Euclidean distance in pixel space on copies downscaled to at most
32x32 (area averaging), values in [-1, 1]. Held-out images were never trained
on, so their distances say how close an unseen image of the same kind comes
to the training set by chance. Two numbers compare the samples with them:

- ``memorisation_ratio``: median sample distance / median held-out distance.
  About 1 for a generator that draws new images like the data; near 0 for one
  that reproduces training images. Far above 1 means the samples are unlike
  every training image (a poor generator, not a memorising one).
- ``memorisation_share``: the share of samples closer to their nearest training
  image than 95% of held-out images are (below the 5th percentile of the
  held-out distances). Held-out images themselves score 0.05 by construction,
  so a generator that generalises scores about 0.05 and one that copies
  training images approaches 1. A percentile rather than the minimum keeps
  the threshold meaningful when a folder holds near-duplicates (photo bursts)
  on both sides of the split.

Training images are read in chunks, so memory stays bounded for large folders.
"""
from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor
from tqdm import tqdm

from gankit.data import uint8_to_float

COMPARED_SIZE = 32  # images are compared downscaled to at most this size
SHARE_PERCENTILE = 0.05
MAX_QUERIES = 1000  # samples (and held-out images) matched, at most
TRAIN_CHUNK = 4096  # training images compared at once, at most (4096 x 3072 floats = 50 MB downscaled) ...
TRAIN_CHUNK_VALUES = 2**24  # ... and at most this many pixel values read and downscaled at once (64 MB as floats)
QUERY_CHUNK = 1024  # rows of a distance matrix at once (1024 x 4096 floats = 16 MB)
PICTURE_PAIRS = 16


def downscaled(images: Tensor) -> Tensor:
    """Float images (N, C, H, W) as rows of pixel values, downscaled to at most 32x32 by area averaging."""
    size = (min(COMPARED_SIZE, images.shape[-2]), min(COMPARED_SIZE, images.shape[-1]))
    return F.interpolate(images.float(), size=size, mode="area").flatten(1)


@torch.no_grad()
def nearest_train(queries: Tensor, train: Tensor) -> tuple[Tensor, Tensor]:
    """(distance, index) of the nearest of the uint8 ``train`` images to each float ``queries`` image.

    cdist's fast matrix-product form is off by about 0.03 for identical images, so each chunk's
    winner's distance is recomputed directly: a copied training image scores exactly 0.
    """
    query_rows = downscaled(queries)
    best = torch.full((len(queries),), float("inf"))
    index = torch.zeros(len(queries), dtype=torch.long)
    chunk = max(1, min(TRAIN_CHUNK, TRAIN_CHUNK_VALUES // math.prod(train.shape[1:])))  # 85 images of 256x256x3
    progress = tqdm(total=len(train), desc="memorisation check", unit="image", leave=False,
                    disable=len(train) <= chunk)
    for start, images in zip(range(0, len(train), chunk), train.split(chunk)):  # a streamed folder decodes ahead
        progress.update(len(images))
        train_rows = downscaled(uint8_to_float(images))
        for row in range(0, len(query_rows), QUERY_CHUNK):
            span = slice(row, row + QUERY_CHUNK)
            nearest = torch.cdist(query_rows[span], train_rows).argmin(1)
            distance = (query_rows[span] - train_rows[nearest]).norm(dim=1)
            closer = distance < best[span]
            best[span] = torch.where(closer, distance, best[span])
            index[span] = torch.where(closer, nearest + start, index[span])
    progress.close()
    return best, index


def memorisation(samples: Tensor, held_out: Tensor, train: Tensor) -> tuple[dict, Tensor, Tensor]:
    """The two numbers of the module notes for float ``samples`` and ``held_out`` images against uint8
    ``train`` images (at most the first 1,000 samples and held-out images), with the nearest-training
    distance and index of each sample used."""
    samples, held_out = samples[:MAX_QUERIES], held_out[:MAX_QUERIES]
    distance, nearest = nearest_train(torch.cat([samples.float(), held_out.float()]), train)  # one pass over train
    sample_distance, held_out_distance = distance.split([len(samples), len(held_out)])
    sample_nearest = nearest[:len(samples)]
    typical = held_out_distance.median().clamp_min(1e-12)
    threshold = torch.quantile(held_out_distance, SHARE_PERCENTILE)
    metrics = {"memorisation_ratio": (sample_distance.median() / typical).item(),
               "memorisation_share": (sample_distance < threshold).sum().item() / len(sample_distance)}
    return metrics, sample_distance, sample_nearest


def save_nearest_picture(samples: Tensor, train: Tensor, distance: Tensor, nearest: Tensor, path: Path) -> None:
    """The (up to) 16 samples closest to a training image, closest first, each above its nearest training
    image: rows of up to eight samples, each followed by the row of their neighbours."""
    from gankit.visual import save_image_grid

    columns = min(PICTURE_PAIRS // 2, len(distance))
    closest = distance.argsort()[:min(PICTURE_PAIRS, len(distance)) // columns * columns]
    rows = []
    for start in range(0, len(closest), columns):
        group = closest[start:start + columns]
        rows += [samples[group].float(), uint8_to_float(train[nearest[group]])]
    save_image_grid(torch.cat(rows), path, nrow=columns)

"""Small digit / clothing classifiers that gankit trains itself and ships as feature networks.

No pretrained Inception weights can be downloaded offline, so the image
metrics score samples with these networks: the penultimate layer gives
features (FID, KID, precision/recall, density/coverage) and the softmax gives
class predictions (Inception-Score-style score, conditional accuracy).

Weights live in ``gankit/weights/<dataset>_classifier.safetensors`` (loaded
without pickle), next to a JSON record of the command that trained them and
their measured test accuracy. ``gankit classifier train`` re-creates them.

Determinism: training draws every random number (initialisation, batch order,
augmentation) from the seed, and runs with ``torch.use_deterministic_algorithms``.
On the CPU that makes a retrain bitwise identical on the same machine, torch
version and thread count; another thread count or CPU can change the order of
floating-point sums, so its weights differ slightly.
"""
from __future__ import annotations

import copy
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gankit.data import ImageDataset, load_dataset, uint8_to_float
from gankit.errors import GankitError

# mnist-colour-attributes reads mnist-colour's attributes instead of its digits: one class per colour x
# background combination (gankit.data.translation.attribute_combinations), which scores stargan's targets.
ATTRIBUTE_CLASSIFIERS = {"mnist-colour-attributes": "mnist-colour"}
CLASSIFIER_DATASETS = ("digits", "mnist", "fashion-mnist", "mnist-m", "mnist-colour", "mnist-edges",
                       *ATTRIBUTE_CLASSIFIERS)
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"


class Classifier(nn.Module):
    """A small all-convolutional net for grey (or, with ``in_channels=3``, colour) images at any size.

    Inputs in [-1, 1] are resized (bicubic) to the fixed internal
    size the net was trained at, so 28x28 and 32x32 versions of a dataset are
    scored by the same weights. Conv stages separated by max-pooling and a
    global average pool give ``num_features`` features; a linear layer gives
    the class logits. Activations are kept channels-last, which oneDNN's CPU
    convolutions run about 1.5x faster.
    """

    def __init__(self, input_size: int, stages: tuple[tuple[int, ...], ...] = ((32,), (64, 64), (128,)),
                 num_classes: int = 10, in_channels: int = 1):
        super().__init__()
        self.input_size, self.in_channels = input_size, in_channels
        self.stages = tuple(tuple(stage) for stage in stages)
        self.num_features = self.stages[-1][-1]
        layers, c_in = [], in_channels
        for i, stage in enumerate(self.stages):
            if i > 0:  # halve the resolution between stages
                layers.append(nn.MaxPool2d(2))
            for c_out in stage:
                layers += [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
                           nn.BatchNorm2d(c_out, eps=1e-5, momentum=0.1), nn.ReLU(inplace=True)]
                c_in = c_out
        self.trunk = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(self.num_features, num_classes)
        self.to(memory_format=torch.channels_last)

    def _fit_size(self, x: Tensor) -> Tensor:
        if x.shape[1] != self.in_channels:
            raise GankitError(f"the classifier takes {self.in_channels}-channel images, not {x.shape[1]}-channel ones.")
        if tuple(x.shape[-2:]) != (self.input_size, self.input_size):
            # Plain bicubic sampling, no antialiasing: inputs are usually our data enlarged
            # (28 -> 32, 8 -> 32), and antialiasing the way back blurs strokes (MNIST at
            # 32x32: 99.3% accuracy this way, 97.8% with antialiased bilinear).
            x = F.interpolate(x, size=(self.input_size, self.input_size), mode="bicubic",
                              antialias=False, align_corners=False)
        return x.contiguous(memory_format=torch.channels_last)

    def features(self, x: Tensor) -> Tensor:
        """Penultimate-layer features, (N, num_features)."""
        return self.trunk(self._fit_size(x))

    def forward(self, x: Tensor) -> Tensor:
        """Class logits, (N, num_classes)."""
        return self.head(self.features(x))


# --- shipped weights -------------------------------------------------------------

def weights_path(dataset: str) -> Path:
    return WEIGHTS_DIR / f"{dataset}_classifier.safetensors"


def save_classifier(net: Classifier, path: Path, dataset: str) -> None:
    from safetensors.torch import save_file

    meta = {"dataset": dataset, "input_size": str(net.input_size), "stages": json.dumps(net.stages),
            "num_classes": str(net.head.out_features), "in_channels": str(net.in_channels)}
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path), metadata=meta)


def load_classifier(dataset: str, path: Optional[Path] = None) -> Classifier:
    """The classifier for ``dataset`` (shipped weights unless ``path``), in eval mode on the CPU."""
    from safetensors import safe_open

    if path is None:
        if dataset not in CLASSIFIER_DATASETS:
            raise GankitError(f"gankit ships no classifier for '{dataset}'; there are ones for "
                              f"{', '.join(CLASSIFIER_DATASETS)}.")
        path = weights_path(dataset)
    if not path.is_file():
        raise GankitError(f"classifier weights {path} are missing; create them with "
                          f"'gankit classifier train --data {dataset}'.")
    with safe_open(str(path), framework="pt") as file:
        meta = file.metadata()
        state = {key: file.get_tensor(key) for key in file.keys()}
    net = Classifier(int(meta["input_size"]), json.loads(meta["stages"]), int(meta["num_classes"]),
                     int(meta.get("in_channels", 1)))
    net.load_state_dict(state)
    return net.eval().requires_grad_(False)


def fuse_batchnorm(net: Classifier) -> Classifier:
    """A copy of an eval-mode ``net`` with each BatchNorm folded into the conv before it.

    Same outputs up to float rounding; about 30% faster on the CPU, where the
    separate BatchNorm passes over the activations cost as much as convolutions.
    """
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    fused, layers = copy.deepcopy(net), list(net.trunk)
    kept = []
    for layer in layers:
        if isinstance(layer, nn.BatchNorm2d):
            kept[-1] = fuse_conv_bn_eval(kept[-1], layer)
        else:
            kept.append(layer)
    fused.trunk = nn.Sequential(*kept).to(memory_format=torch.channels_last)
    return fused


# --- training --------------------------------------------------------------------

@dataclass
class TrainSettings:
    """How a classifier is trained; the defaults reach the accuracy targets in docs/evaluation.md."""

    epochs: int = 8
    batch_size: int = 128
    lr: float = 3e-3
    weight_decay: float = 5e-4
    max_shift: int = 2  # random translation in pixels (native resolution)
    flip: bool = False  # random horizontal flips (sensible for clothing, not digits)
    # colour images: random channel order and, half the time, the negative, so the net reads the
    # digit's shape rather than the colours of the few training photos behind it (MNIST-M)
    recolour: bool = False
    seed: int = 0
    stages: tuple[tuple[int, ...], ...] = ((32,), (64, 64), (128,))  # conv widths per resolution


# About a minute per epoch single-threaded on 60,000 images.
DEFAULTS = {"digits": TrainSettings(epochs=60, batch_size=64, max_shift=1),
            "mnist": TrainSettings(epochs=8),
            "fashion-mnist": TrainSettings(epochs=10, flip=True),
            "mnist-m": TrainSettings(epochs=10, recolour=True),
            # every colour x background combination is in the training split: no augmentation of colour needed
            "mnist-colour": TrainSettings(epochs=5),
            # outlines have no inverse map to digits, so they get their own reader (cogan's pair consistency)
            "mnist-edges": TrainSettings(epochs=3),
            # colour and background are easy to read: one epoch is plenty
            "mnist-colour-attributes": TrainSettings(epochs=1)}

DIGITS_TEST_FRACTION = 0.2  # digits has no test split: hold out a fixed, class-stratified fifth


def classifier_data(dataset: str, root: Optional[str], seed: int) -> tuple[ImageDataset, ImageDataset]:
    """(train, test) at native resolution; digits is split by a seeded stratified permutation."""
    if dataset not in CLASSIFIER_DATASETS:
        raise GankitError(f"classifiers can be trained on {', '.join(CLASSIFIER_DATASETS)}, not '{dataset}'.")
    if dataset in ATTRIBUTE_CLASSIFIERS:
        return tuple(by_attributes(load_dataset(ATTRIBUTE_CLASSIFIERS[dataset], root, split, download=False))
                     for split in ("train", "test"))
    if dataset != "digits":
        return (load_dataset(dataset, root, "train", download=False),
                load_dataset(dataset, root, "test", download=False))
    full = load_dataset("digits")
    generator = torch.Generator().manual_seed(seed)
    test_index = []
    for label in range(10):
        members = (full.labels == label).nonzero().squeeze(1)
        members = members[torch.randperm(len(members), generator=generator)]
        test_index.append(members[:round(len(members) * DIGITS_TEST_FRACTION)])
    is_test = torch.zeros(len(full), dtype=torch.bool)
    is_test[torch.cat(test_index)] = True
    return tuple(full.select(mask) for mask in (~is_test, is_test))


def by_attributes(dataset: ImageDataset) -> ImageDataset:
    """``dataset``'s images labelled by the combination of their attribute values, one class per combination."""
    from gankit.data.translation import attribute_combinations

    sizes = tuple(len(values) for _, values in dataset.spec.attributes)
    return ImageDataset(f"{dataset.spec.name}-attributes", dataset.images,
                        attribute_combinations(dataset.attributes, sizes), math.prod(sizes))


def augment(images: Tensor, max_shift: int, flip: bool, generator: torch.Generator,
            recolour: bool = False) -> Tensor:
    """Random per-image translations (zero-padded uint8), optional horizontal flips and, with
    ``recolour``, a random channel order per image and the negative of half the images."""
    n, c, h, w = images.shape
    if max_shift:
        padded = F.pad(images, (max_shift,) * 4)
        dy, dx = torch.randint(0, 2 * max_shift + 1, (2, n, 1), generator=generator)
        rows = (dy + torch.arange(h))[:, None, :, None]  # (n, 1, h, 1)
        cols = (dx + torch.arange(w))[:, None, None, :]  # (n, 1, 1, w)
        images = padded[torch.arange(n)[:, None, None, None], torch.arange(c)[None, :, None, None], rows, cols]
    if flip:
        mirror = torch.rand(n, generator=generator) < 0.5
        images = torch.where(mirror[:, None, None, None], images.flip(-1), images)
    if recolour:
        order = torch.rand(n, c, generator=generator).argsort(1)
        images = images.gather(1, order[:, :, None, None].expand(-1, -1, h, w))
        negative = torch.rand(n, generator=generator) < 0.5
        images = torch.where(negative[:, None, None, None], 255 - images, images)
    return images


@torch.no_grad()
def accuracy(net: Classifier, dataset: ImageDataset, batch_size: int = 1000) -> float:
    """Share of ``dataset`` that ``net`` (put in eval mode) classifies correctly."""
    net.eval()
    correct = sum((net(uint8_to_float(dataset.images[i:i + batch_size])).argmax(1)
                   == dataset.labels[i:i + batch_size]).sum().item() for i in range(0, len(dataset), batch_size))
    return correct / len(dataset)


def train_classifier(dataset: str, root: Optional[str], settings: TrainSettings,
                     log=print) -> tuple[Classifier, dict]:
    """Train the classifier for ``dataset`` from scratch; returns it and a record of the run."""
    train, test = classifier_data(dataset, root, settings.seed)
    torch.manual_seed(settings.seed)
    generator = torch.Generator().manual_seed(settings.seed)
    deterministic = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    net = Classifier(train.images.shape[-1], settings.stages, num_classes=train.spec.num_classes,
                     in_channels=train.images.shape[1])
    steps_per_epoch = len(train) // settings.batch_size
    optimizer = torch.optim.AdamW(net.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, settings.lr,
                                                   total_steps=settings.epochs * steps_per_epoch)
    start = time.time()
    try:
        for epoch in range(settings.epochs):
            net.train()
            order = torch.randperm(len(train), generator=generator)
            for step in range(steps_per_epoch):
                index = order[step * settings.batch_size:(step + 1) * settings.batch_size]
                x = uint8_to_float(augment(train.images[index], settings.max_shift, settings.flip, generator,
                                           settings.recolour))
                loss = F.cross_entropy(net(x), train.labels[index])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                schedule.step()
            log(f"epoch {epoch + 1}/{settings.epochs}: loss {loss.item():.4f}, "
                f"test accuracy {accuracy(net, test):.4f} ({time.time() - start:.0f}s)")
    finally:
        torch.use_deterministic_algorithms(deterministic)
    record = {"dataset": dataset, "test_accuracy": round(accuracy(net, test), 5), "test_images": len(test),
              "train_images": len(train), "settings": vars(settings).copy(),
              "train_seconds": round(time.time() - start, 1), "threads": torch.get_num_threads(),
              "torch": torch.__version__}
    return net.eval(), record


def write_record(record: dict, weights: Path, command: str) -> Path:
    """The JSON record next to the weights: command, accuracy, settings."""
    path = weights.with_suffix(".json")
    command = f"OMP_NUM_THREADS={record['threads']} {command}"  # the thread count is part of determinism
    path.write_text(json.dumps({"command": command, **record}, indent=2) + "\n")
    return path

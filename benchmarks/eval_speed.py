"""Time the image evaluation on MNIST: real training images stand in for a generator.

    OMP_NUM_THREADS=2 python benchmarks/eval_speed.py --data-root ../shared/data [-n 10000]

Scores ``n`` MNIST training images as "samples" against ``n`` test images with
every image metric (the work `gankit eval` does after generating), and prints
the metrics and the wall time. Generation time is the model's own and is
not included.
"""
from __future__ import annotations

import argparse
import json
import time

import torch

from gankit.data import load_dataset, uint8_to_float
from gankit.metrics import evaluate


class TrainImages(torch.nn.Module):
    """A stand-in generator that returns successive MNIST training images."""

    def __init__(self, images: torch.Tensor):
        super().__init__()
        self.images, self.position = images, 0

    def sample(self, n: int, labels=None) -> torch.Tensor:
        self.position += n
        return uint8_to_float(self.images[self.position - n:self.position])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root")
    parser.add_argument("-n", type=int, default=10000)
    parser.add_argument("--image-size", type=int)
    args = parser.parse_args()
    train = load_dataset("mnist", args.data_root, "train", args.image_size, download=False)
    test = load_dataset("mnist", args.data_root, "test", args.image_size, download=False)
    start = time.perf_counter()
    metrics = evaluate(TrainImages(train.images), test, args.n)
    seconds = time.perf_counter() - start
    print(json.dumps(metrics, indent=2))
    print(f"{args.n} samples, {torch.get_num_threads()} threads: {seconds:.1f} s")


if __name__ == "__main__":
    main()

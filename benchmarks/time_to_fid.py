"""Wall time to a feature-FID on MNIST: the reference DCGAN script's one epoch against gankit's dcgan.

    python benchmarks/time_to_fid.py --data-root ../shared/data [--threads 2] [--samples 5000] [--every 50]

Issue 13, item 3(b). First the reference-style script (``reference_dcgan.py``) trains one epoch (938
steps of batch 64, its DataLoader decoding and transforming MNIST on the way, as the script does);
its G's FID on gankit's MNIST-classifier features is the target. Then gankit's dcgan at its default
settings (``Trainer`` with ``precision: auto``) trains in blocks of ``--every`` rounds, scored after each
block, until its FID is at or below the target. Both FIDs use ``--samples`` samples against as many
MNIST test images; training time counts only training (the scoring between blocks is left out), and
both sides run in this one process with ``--threads`` threads, one after the other.
"""
from __future__ import annotations

import argparse
import time

import torch
from reference_dcgan import SIZE, Z_DIM, ReferenceTraining
from throughput import NullLogger

from gankit.config import resolve
from gankit.data import load_dataset
from gankit.machine import describe, summary
from gankit.metrics import generate
from gankit.metrics.images import image_metrics
from gankit.registry import get_model
from gankit.train.trainer import Trainer

BATCH = 64


def fid_of(samples: torch.Tensor, test) -> float:
    return image_metrics(None, samples, test)["fid"]


def reference_epoch(data_root: str) -> tuple[torch.nn.Module, float, int]:
    """(G, training seconds, steps) of one epoch of the reference-style script."""
    from torchvision import datasets, transforms

    data = datasets.MNIST(data_root, train=True, download=False, transform=transforms.Compose(
        [transforms.Resize(SIZE), transforms.ToTensor(), transforms.Normalize([0.5], [0.5])]))
    loader = torch.utils.data.DataLoader(data, batch_size=BATCH, shuffle=True)
    training = ReferenceTraining()
    start, steps = time.perf_counter(), 0
    for real, _ in loader:
        d_loss, g_loss = training.step(real)
        print(f"\rreference step {steps + 1}/{len(loader)}  D {d_loss.item():.3f}  G {g_loss.item():.3f}", end="",
              flush=True)
        steps += 1
    print()
    return training.G, time.perf_counter() - start, steps


class ReferenceSampler(torch.nn.Module):
    """The reference G as gankit's ``generate`` expects a model."""

    def __init__(self, G: torch.nn.Module):
        super().__init__()
        self.G, self.device = G, torch.device("cpu")

    def sample(self, n, labels=None):
        return self.G(torch.randn(n, Z_DIM))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", required=True, help="torchvision-layout folder holding MNIST")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--samples", type=int, default=5000, help="samples (and test images) per FID")
    parser.add_argument("--every", type=int, default=50, help="gankit rounds between scorings")
    parser.add_argument("--max-rounds", type=int, default=3000)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"machine: {summary(describe(threads=args.threads))}", flush=True)
    test = load_dataset("mnist", args.data_root, "test", image_size=SIZE)
    torch.manual_seed(0)
    G, reference_seconds, steps = reference_epoch(args.data_root)
    target = fid_of(generate(ReferenceSampler(G), args.samples), test)
    print(f"reference: {steps} steps in {reference_seconds:.1f} s, FID {target:.2f}", flush=True)

    tree = {"model": "dcgan", "data": {"name": "mnist", "root": args.data_root, "image_size": SIZE},
            "train": {"batch_size": BATCH, "seed": 0}}
    trainer = Trainer(resolve(tree, get_model("dcgan").Options), run_dir=None)
    logger, seconds, fid = NullLogger(), 0.0, float("inf")
    while fid > target and trainer.step < args.max_rounds:
        start = time.perf_counter()
        for _ in range(args.every):
            trainer.train_round(logger)
        seconds += time.perf_counter() - start
        with trainer.sampling_model() as model:
            fid = fid_of(generate(model, args.samples), test)
        print(f"gankit dcgan ({trainer.config.train.precision}): {trainer.step} rounds, {seconds:.1f} s, FID {fid:.2f}",
              flush=True)
    if fid <= target:
        print(f"gankit reached the reference's FID {target:.2f} in {seconds:.1f} s against its {reference_seconds:.1f} s: "
              f"{reference_seconds / seconds:.1f}x sooner")
    else:
        print(f"gankit did not reach FID {target:.2f} in {trainer.step} rounds ({seconds:.1f} s)")


if __name__ == "__main__":
    main()

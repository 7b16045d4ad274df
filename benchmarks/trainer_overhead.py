"""The trainer's overhead: gankit's dcgan rounds against a bare hand-written loop doing the same arithmetic.

    python benchmarks/trainer_overhead.py --data-root ../shared/data [--rounds 100] [--repeats 5] [--threads 2]

Both sides train DCGAN's networks at the paper's width on 32x32 MNIST, batch 64, fp32, one D step and
one G step per round, each on its own batch of real images, with the same fused Adam (2e-4, betas 0.5
and 0.999). The trainer side is ``Trainer.train_round`` with its metric logging (values kept as tensors,
written every 100 rounds, as ``fit`` does); checkpoints and sample pictures, which a run does every few
hundred or thousand rounds, are left out of both. The bare side is the loop one would write by hand:
the images converted to floats once, one shuffle per epoch, BCE-with-logits, and G's loss backpropagated
into G's parameters only (as the trainer does; a loop that also fills D's gradients in G's step does
more work). Blocks of ``--rounds`` alternate between the two, so both see the same machine state;
the median rate of each is reported, and the overhead is bare / trainer - 1 (issue 13's target: 5%).
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from gankit.config import resolve
from gankit.data import uint8_to_float
from gankit.machine import describe, summary
from gankit.registry import get_model
from gankit.train.logger import MetricsLogger
from gankit.train.trainer import Trainer

BATCH = 64
LOG_EVERY = 100


def make_trainer(args) -> Trainer:
    tree = {"model": "dcgan", "data": {"name": "mnist", "root": args.data_root, "image_size": 32},
            "train": {"batch_size": BATCH, "precision": "fp32", "channels_last": False, "seed": 0}}
    return Trainer(resolve(tree, get_model("dcgan").Options), run_dir=None)


class BareLoop:
    """DCGAN training as a short script would write it, on a copy of the trainer's networks."""

    def __init__(self, trainer: Trainer):
        twin = make_trainer_like(trainer)
        self.G, self.D, self.z_dim = twin.model.G, twin.model.D, twin.model.options.z_dim
        d_optimizer, g_optimizer = trainer.optimizers["D"], trainer.optimizers["G"]
        self.d_optimizer = type(d_optimizer)(self.D.parameters(), **d_optimizer.defaults)
        self.g_optimizer = type(g_optimizer)(self.G.parameters(), **g_optimizer.defaults)
        self.g_params = list(self.G.parameters())
        self.images = uint8_to_float(trainer.dataset.images)
        self.order, self.position = torch.randperm(len(self.images)), 0
        self.ones, self.zeros = torch.ones(BATCH, 1), torch.zeros(BATCH, 1)

    def batch(self) -> torch.Tensor:
        if self.position + BATCH > len(self.order):
            self.order, self.position = torch.randperm(len(self.images)), 0
        picked = self.order[self.position:self.position + BATCH]
        self.position += BATCH
        return self.images[picked]

    def round(self) -> None:
        real = self.batch()
        with torch.no_grad():
            fake = self.G(torch.randn(BATCH, self.z_dim))
        d_loss = (F.binary_cross_entropy_with_logits(self.D(real).view(-1, 1), self.ones)
                  + F.binary_cross_entropy_with_logits(self.D(fake).view(-1, 1), self.zeros))
        self.d_optimizer.zero_grad(set_to_none=True)
        d_loss.backward()
        self.d_optimizer.step()
        self.batch()  # the trainer draws a fresh batch for G's step too
        g_loss = F.binary_cross_entropy_with_logits(self.D(self.G(torch.randn(BATCH, self.z_dim))).view(-1, 1),
                                                    self.ones)
        self.g_optimizer.zero_grad(set_to_none=True)
        g_loss.backward(inputs=self.g_params)
        self.g_optimizer.step()


def make_trainer_like(trainer: Trainer) -> Trainer:
    """A second trainer on the same config (same seed: the same initial networks), for its modules."""
    return Trainer(trainer.config, run_dir=None, dataset=trainer.dataset)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", required=True, help="torchvision-layout folder holding MNIST")
    parser.add_argument("--rounds", type=int, default=100, help="rounds per timed block")
    parser.add_argument("--repeats", type=int, default=5, help="timed blocks per side")
    parser.add_argument("--warmup", type=int, default=10, help="untimed rounds per side first")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    trainer = make_trainer(args)
    bare = BareLoop(trainer)
    with tempfile.TemporaryDirectory() as folder:
        logger = MetricsLogger(Path(folder))

        def trainer_round() -> None:
            trainer.train_round(logger)
            if trainer.step % LOG_EVERY == 0:
                logger.flush(trainer.step)

        sides = {"trainer": trainer_round, "bare loop": bare.round}
        for run in sides.values():
            for _ in range(args.warmup):
                run()
        rates = {name: [] for name in sides}
        for _ in range(args.repeats):
            for name, run in sides.items():
                start = time.perf_counter()
                for _ in range(args.rounds):
                    run()
                rates[name].append(args.rounds / (time.perf_counter() - start))
        logger.close()
    print(f"machine: {summary(describe(threads=args.threads))}")
    for name, values in rates.items():
        print(f"{name:10s} {statistics.median(values):6.2f} rounds/s (median of {args.repeats} blocks of "
              f"{args.rounds}; range {min(values):.2f}-{max(values):.2f})")
    overhead = statistics.median(rates["bare loop"]) / statistics.median(rates["trainer"]) - 1
    print(f"trainer overhead: {100 * overhead:+.1f}%")


if __name__ == "__main__":
    main()

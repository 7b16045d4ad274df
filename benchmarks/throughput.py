"""DCGAN training throughput at batch 64 on 32x32 MNIST: fp32 vs bf16 + channels_last.

    python benchmarks/throughput.py --data-root ../shared/data [--device cpu] [--rounds 40]

One round is one D step and one G step, each on its own batch of 64 real
images, so images/s = 64 x rounds/s. Runs every setting in this one process,
one after another, so they never compete for cores.
"""
from __future__ import annotations

import argparse
import json
import time

import torch

from gankit.config import resolve
from gankit.machine import describe, summary
from gankit.registry import get_model
from gankit.train.trainer import Trainer

SETTINGS = {
    "fp32": {"precision": "fp32", "channels_last": False},
    "fp32+channels_last": {"precision": "fp32", "channels_last": True},
    "bf16+channels_last": {"precision": "bf16", "channels_last": True},
}


class NullLogger:
    def accumulate(self, *args) -> None:
        pass


def measure(setting: dict, args) -> float:
    tree = {"model": "dcgan", "data": {"name": "mnist", "root": args.data_root, "image_size": 32},
            "train": {"batch_size": 64, "device": args.device, **setting}}
    trainer = Trainer(resolve(tree, get_model("dcgan").Options), run_dir=None)
    logger = NullLogger()
    for _ in range(args.warmup):
        trainer.train_round(logger)
    sync = torch.cuda.synchronize if trainer.device.type == "cuda" else (lambda: None)
    sync()
    start = time.perf_counter()
    for _ in range(args.rounds):
        trainer.train_round(logger)
    sync()
    return args.rounds / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = {}
    for name, setting in SETTINGS.items():
        rounds_per_sec = measure(setting, args)
        results[name] = {"rounds_per_sec": round(rounds_per_sec, 2), "images_per_sec": round(64 * rounds_per_sec, 1)}
        print(f"{name:<20} {results[name]['images_per_sec']:>8.1f} images/s  ({rounds_per_sec:.2f} rounds/s)",
              flush=True)
    print(f"measured on {summary(describe())}, device {args.device}")
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()

"""DCGAN training rounds per second on one device: a reference-style script's step against gankit's.

    python benchmarks/gpu_step.py [--device cuda] [--batch-sizes 64 1024] [--rounds 200] [--json FILE]

What `benchmarks/gpu_check.sh` runs when a GPU is lent (issue 13, item 2). Every setting trains DCGAN
on 32x32 images for ``--warmup`` untimed and ``--rounds`` timed rounds (one D step and one G step),
one setting after another in this process, and prints rounds/s and images/s (batch x rounds/s):

- ``reference``: the step of the widely copied stand-alone DCGAN script (``reference_dcgan.py``: its
  networks, BCELoss, foreach Adam, one batch per round, G's backward also filling D's gradients, each
  step's losses read back with ``.item()`` to print, as the script does). Its batches are already on the
  device, which flatters it (the script decodes them on the CPU every step).
- ``gankit``: ``Trainer.train_round`` on gankit's dcgan (the paper's networks), fp32 or bf16 autocast,
  eager or with ``train.compile`` (on CUDA: CUDA graphs), logged values kept on the device.

Use the same call for every number compared: rates on another card or another day are not comparable.
"""
from __future__ import annotations

import argparse
import json
import time

import torch
from reference_dcgan import ReferenceTraining
from throughput import NullLogger

from gankit.config import resolve
from gankit.machine import describe, summary
from gankit.registry import get_model
from gankit.train.trainer import Trainer

SIZE = 32


def reference_rounds(device: torch.device, batch: int):
    """A callable doing one round of the reference-style script on batches already on the device."""
    training = ReferenceTraining(device)
    images = torch.rand(4096, 1, SIZE, SIZE, device=device) * 2 - 1

    def one_round():
        d_loss, g_loss = training.step(images[torch.randint(len(images), (batch,), device=device)])
        return d_loss.item(), g_loss.item()  # the script prints both every step: a host synchronisation

    return one_round


def gankit_rounds(device: torch.device, batch: int, precision: str, compiled: bool, data_root):
    tree = {"model": "dcgan", "data": {"name": "mnist" if data_root else "digits", "root": data_root,
                                       "image_size": SIZE},
            "train": {"batch_size": batch, "device": device.type, "precision": precision,
                      "channels_last": precision == "bf16", "compile": compiled}}
    trainer = Trainer(resolve(tree, get_model("dcgan").Options), run_dir=None)
    logger = NullLogger()
    return lambda: trainer.train_round(logger)


def rate(one_round, rounds: int, warmup: int, device: torch.device) -> float:
    for _ in range(warmup):
        one_round()
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(rounds):
        one_round()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return rounds / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 1024])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=30, help="untimed rounds first (compiling happens here)")
    parser.add_argument("--data-root", help="MNIST in torchvision's layout (default: the digits shipped with scikit-learn)")
    parser.add_argument("--settings", nargs="+",
                        default=["reference", "fp32", "bf16", "fp32+compile", "bf16+compile"])
    parser.add_argument("--json", help="also write the rates to this file")
    args = parser.parse_args()
    device = torch.device(args.device)
    print(f"machine: {summary(describe())}", flush=True)
    results = []
    for batch in args.batch_sizes:
        for setting in args.settings:
            torch.manual_seed(0)
            if setting == "reference":
                one_round = reference_rounds(device, batch)
            else:
                precision, _, compiled = setting.partition("+")
                one_round = gankit_rounds(device, batch, precision, compiled == "compile", args.data_root)
            rounds_per_s = rate(one_round, args.rounds, args.warmup, device)
            results.append({"batch": batch, "setting": setting, "rounds_per_s": rounds_per_s,
                            "images_per_s": batch * rounds_per_s})
            print(f"batch {batch:5d}  {setting:14s} {rounds_per_s:9.1f} rounds/s {batch * rounds_per_s:11.0f} images/s",
                  flush=True)
    for batch in args.batch_sizes:
        here = {r["setting"]: r["rounds_per_s"] for r in results if r["batch"] == batch}
        if "reference" in here:
            best = max((s for s in here if s != "reference"), key=here.get, default=None)
            if best:
                print(f"batch {batch}: best gankit setting {best} runs {here[best] / here['reference']:.1f}x the "
                      f"reference step's rate")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"machine": describe(), "results": results}, handle, indent=2)


if __name__ == "__main__":
    main()

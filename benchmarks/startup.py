"""Start-up times: `gankit list`, `gankit train --help`, and from launching `gankit train` to the end of
its first training step (one process, and two processes under torchrun).

    OMP_NUM_THREADS=1 python benchmarks/startup.py [--repeats 5]

Every command runs in a fresh process, one at a time; the script prints the median
and range over the repeats, and the machine. The first-step times come from this
script's probe mode, which runs the gankit command line with the trainer's round
timed (the launch time travels in GANKIT_LAUNCHED_AT).
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROBE_LINE = "first training step done"
COMMANDS = {
    "gankit list": ["list"],
    "gankit train --help": ["train", "--help"],
}
FIRST_STEP = {  # what is timed, and the extra arguments of `gankit train`
    "gan on ring8, 1 process": ["gan", "--data", "ring8"],
    "dcgan on digits, 1 process": ["dcgan", "--data", "digits"],
    "gan on ring8, 2 processes (torchrun)": ["gan", "--data", "ring8"],
}


def probe(argv: list[str]) -> int:
    """Run `gankit ARGV`, printing on stderr when rank 0's first round has ended."""
    launched = float(os.environ["GANKIT_LAUNCHED_AT"])
    from gankit.cli import main
    from gankit.train.trainer import Trainer

    untimed = Trainer.train_round

    def timed_round(trainer, logger):
        untimed(trainer, logger)
        if trainer.step == 1 and trainer.ranks.is_main:
            print(f"{PROBE_LINE} {time.time() - launched:.3f}", file=sys.stderr, flush=True)

    Trainer.train_round = timed_round
    return main(argv)


def wall_time(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def first_step_time(name: str, train_args: list[str], out: Path) -> float:
    this = [sys.executable, __file__, "--probe"]
    if "torchrun" in name:
        this = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", __file__, "--probe"]
    command = [*this, "train", *train_args, "--steps", "1", "--set", "train.eval_samples=0", "-q", "--out", str(out)]
    env = {**os.environ, "GANKIT_LAUNCHED_AT": repr(time.time())}
    result = subprocess.run(command, check=True, capture_output=True, text=True, env=env)
    return float(re.search(rf"{PROBE_LINE} ([0-9.]+)", result.stderr).group(1))


def report(name: str, times: list[float]) -> None:
    print(f"{name:<55} {statistics.median(times):6.2f} s  ({min(times):.2f}-{max(times):.2f}, {len(times)} runs)")


def run(repeats: int) -> None:
    from gankit.machine import describe, summary

    print(f"machine: {summary(describe())}; OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")
    gankit = [sys.executable, "-m", "gankit"]
    for name, args in COMMANDS.items():
        report(name, [wall_time([*gankit, *args]) for _ in range(repeats)])
    with tempfile.TemporaryDirectory() as folder:
        for row, (name, args) in enumerate(FIRST_STEP.items()):
            times = [first_step_time(name, args, Path(folder) / f"run{row}-{i}") for i in range(repeats)]
            report(f"to the first step: {name}", times)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--probe":
        sys.exit(probe(sys.argv[2:]))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    run(parser.parse_args().repeats)

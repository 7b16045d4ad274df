"""Peak memory of training on an image folder: builds (once) a folder of synthetic 256x256 colour JPEGs,
trains dcgan on it with `gankit train`, and samples the memory of the training process and its DataLoader
workers every 0.2 s until the run (evaluation included) ends.

    python benchmarks/stream_rss.py --folder /tmp/folder50k --images 50000 --image-size 256 --steps 20
    python benchmarks/stream_rss.py --folder /tmp/folder50k --image-size 64 --steps 20        # held in memory
    python benchmarks/stream_rss.py --folder /tmp/folder50k --image-size 64 --steps 20 \\
        --set data.memory_budget=0.1                                                           # streamed

Printed: the peak resident set (RSS) of the training process alone, the peak of the proportional set
sizes (PSS: shared pages split between the processes sharing them) summed over it and its workers,
and the wall time; extra `--set KEY=VALUE` settings go to `gankit train`.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gankit.machine import describe, summary


def make_folder(folder: Path, count: int) -> None:
    """``count`` 256x256 JPEGs of smooth random waves with a disc, 1,000 to a subfolder; files already there are kept."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:256, 0:256] / 256.0
    for i in range(count):
        frequency, phase = rng.uniform(1, 6, size=(3, 2)), rng.uniform(0, 6.3, size=3)
        centre, radius, colour = rng.uniform(0.2, 0.8, 2), rng.uniform(0.05, 0.3), rng.uniform(-1, 1, 3)
        path = folder / f"{i // 1000:02d}" / f"{i:05d}.jpg"
        if path.exists():
            continue
        image = np.stack([np.sin(2 * np.pi * (frequency[c, 0] * xx + frequency[c, 1] * yy) + phase[c])
                          for c in range(3)], -1)
        image[(xx - centre[0]) ** 2 + (yy - centre[1]) ** 2 < radius ** 2] = colour
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(((image + 1) * 127.5).astype(np.uint8)).save(path, quality=90)


def tree(pid: int) -> list[int]:
    """``pid`` and every process descended from it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        found.append(todo.pop())
        todo += children.get(found[-1], [])
    return found


def memory_kib(pid: int, field: str, file: str) -> int:
    try:
        line = next(line for line in (Path("/proc") / str(pid) / file).read_text().splitlines()
                    if line.startswith(field + ":"))
        return int(line.split()[1])
    except (OSError, StopIteration):
        return 0  # the process ended between listing and reading


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--images", type=int, default=50_000, help="images the folder should hold (made if missing)")
    parser.add_argument("--image-size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--eval-samples", type=int, default=500)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    start = time.perf_counter()
    make_folder(args.folder, args.images)
    print(f"folder: {args.images:,} images in {args.folder} ({time.perf_counter() - start:.0f} s to check or make)")
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "gankit", "train", "dcgan", "--data", f"folder:{args.folder}",
                   "--steps", str(args.steps), "--batch-size", str(args.batch_size), "--out", f"{out}/run",
                   "--set", f"data.image_size={args.image_size}", "--set", f"train.eval_samples={args.eval_samples}",
                   "--set", "train.precision=fp32"]
        for setting in args.set:
            command += ["--set", setting]
        start = time.perf_counter()
        process = subprocess.Popen(command)
        peak_rss = peak_pss = 0
        while process.poll() is None:
            pids = tree(process.pid)
            peak_rss = max(peak_rss, memory_kib(process.pid, "VmRSS", "status"))
            peak_pss = max(peak_pss, sum(memory_kib(pid, "Pss", "smaps_rollup") for pid in pids))
            time.sleep(0.2)
        wall = time.perf_counter() - start
    if process.returncode:
        sys.exit(f"gankit train failed (exit {process.returncode})")
    print(f"image size {args.image_size}, {args.steps} steps of batch {args.batch_size}, settings {args.set or '-'}")
    print(f"peak RSS of the training process: {peak_rss / 2**20:.2f} GiB")
    print(f"peak PSS of it and its workers together: {peak_pss / 2**20:.2f} GiB")
    print(f"wall time, start-up and evaluation included: {wall:.0f} s on {summary(describe())}")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()

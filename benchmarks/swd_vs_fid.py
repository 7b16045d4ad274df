"""Does the sliced Wasserstein distance rank image GANs as the classifier-feature FID does?

    python benchmarks/swd_vs_fid.py bench/images16 [bench/images ...]

Reads the ``results.json`` of bench folders whose runs were scored with SWD (runs recorded before
SWD existed: ``gankit bench SUITE --rescore``), and prints, per dataset, Spearman's rank correlation
between ``swd`` and ``fid`` over the individual runs and over the rows' means (one point per
model), leaving out the reference rows. Issue 15's bar: >= 0.8 on MNIST.
"""
from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from statistics import fmean

from scipy.stats import spearmanr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path, help="bench folders holding results.json")
    args = parser.parse_args()
    for folder in args.folders:
        runs = [run for run in json.loads((folder / "results.json").read_text())["runs"] if run["model"] != "-"]
        unscored = [run for run in runs if "swd" not in run["metrics"]]
        if unscored:
            raise SystemExit(f"{len(unscored)} run(s) in {folder} have no swd; run `gankit bench "
                             f"{folder.name} --rescore --out {folder}` first.")
        print(f"{folder}:")
        for dataset in sorted({run["dataset"] for run in runs}):
            here = [run for run in runs if run["dataset"] == dataset]
            by_row = defaultdict(list)
            for run in here:
                by_row[run["row"]].append((run["metrics"]["swd"], run["metrics"]["fid"]))
            means = {row: (fmean(s for s, _ in pairs), fmean(f for _, f in pairs)) for row, pairs in by_row.items()}
            per_run = spearmanr([r["metrics"]["swd"] for r in here], [r["metrics"]["fid"] for r in here])[0]
            per_row = spearmanr([s for s, _ in means.values()], [f for _, f in means.values()])[0]
            print(f"  {dataset}: Spearman {per_run:.3f} over {len(here)} runs, {per_row:.3f} over "
                  f"{len(means)} rows' means")
            for row, (swd, fid) in sorted(means.items(), key=lambda item: item[1][1]):
                print(f"    {row:12s} fid {fid:7.3f}  swd {swd:7.2f}")


if __name__ == "__main__":
    main()

"""A crop comparison picture of 4x super-resolution: bicubic, each run's upscaling, and the HR photo.

    python benchmarks/sr_crops.py bench/superres/runs/{srresnet,srgan,esrgan}/photos/seed0 --out crops.png

For each of the held-out test photos (the first ``--photos``), the ``--crop`` x ``--crop`` HR pixels at
its centre are downscaled with the training degradation, then upscaled by bicubic interpolation and by
each run (in tiles, as ``gankit upscale`` does), rounded to 8 bits: one row per photo, the columns
bicubic, the runs in the order given, and the HR crop. It prints the column order.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch

from gankit.data import load_dataset, uint8_to_float
from gankit.data.superres import bicubic_upscale, downscale
from gankit.metrics.superres import central_crop, quantised, upscale_tiled
from gankit.train.run import load_model
from gankit.visual import save_samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="super-resolution run folders of one scale")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--crop", type=int, default=96, help="HR pixels per crop side (a multiple of the scale)")
    parser.add_argument("--photos", type=int, default=3, help="test photos, one row each")
    args = parser.parse_args()
    models = [load_model(run, "cpu")[:2] for run in args.runs]
    scale = models[0][1].scale
    if any(model.scale != scale for _, model in models) or args.crop % scale:
        raise SystemExit(f"the runs must share one scale, and --crop must be a multiple of it ({scale}).")
    rows = []
    for photo in load_dataset("photos", split="test").photos[:args.photos]:
        hr = central_crop(uint8_to_float(photo).unsqueeze(0), args.crop)
        lr = downscale(hr, scale)
        upscaled = [upscale_tiled(model, lr) for _, model in models]
        rows += [quantised(image) for image in (bicubic_upscale(lr, scale), *upscaled)] + [hr]
    save_samples(torch.cat(rows), args.out, nrow=len(models) + 2)
    names = ["bicubic", *(f"{config.model} ({run})" for (config, _), run in zip(models, args.runs)), "HR"]
    print(f"wrote {args.out}: columns {', '.join(names)}")


if __name__ == "__main__":
    main()

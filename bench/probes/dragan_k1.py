"""Why DRAGAN at the paper's k = 1 never settles on ring8: a probe behind the README's toy2d notes.

Trains dragan on ring8 (seed 0, the toy2d suite's recipe: MLP width 128, Adam 1e-3 decaying linearly
over the second half, batch 256, 5,000 rounds) in several variants, and every 250 rounds measures the
2-D protocol's modes and % high quality, the mean distance of 2,500 samples from the unit circle
(|r - 1|; the modes have std 0.01) and D's mean input-gradient norm at real points.

    GANKIT_DATA=../shared/data OMP_NUM_THREADS=1 python bench/probes/dragan_k1.py > bench/probes/dragan_k1.txt

The variants change one thing each: the perturbation's size (noise_scale, the paper's 0.5 * std(x)),
its shape (the paper's text draws delta ~ N(0, cI); its code, and gankit, x + noise_scale * std(x) *
U[0, 1)), the learning rate, and the penalty's centre k.
"""
from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

import torch

import gankit.models.unconditional.dragan as dragan_module
from gankit.config import resolve
from gankit.losses.penalties import input_gradient_norm
from gankit.metrics.toy2d import mode_metrics
from gankit.registry import get_model
from gankit.train.logger import MetricsLogger
from gankit.train.trainer import Trainer

VARIANTS = {
    "k=1 (the paper's recipe)": {},
    "k=1, noise_scale 0.2": {"noise_scale": 0.2},
    "k=1, noise_scale 0.05": {"noise_scale": 0.05},
    "k=1, noise_scale 0.02": {"noise_scale": 0.02},
    "k=1, noise_scale 0.01": {"noise_scale": 0.01},
    "k=1, Gaussian noise": {"gaussian": True},
    "k=1, Gaussian noise, noise_scale 0.05": {"gaussian": True, "noise_scale": 0.05},
    "k=1, lr 1e-4": {"lr": 1e-4},
    "k=0 (zero-centred)": {"gp_center": 0.0},
}
uniform_penalty = dragan_module.dragan_penalty  # gankit's (and the authors' code's) perturbations


def gaussian_dragan_penalty(critic, real, noise_scale=0.5, center=1.0):
    """The paper's text: the penalty at x + delta, delta ~ N(0, (noise_scale * std(x))^2 I)."""
    real = real.detach()
    perturbed = real + noise_scale * real.std() * torch.randn_like(real)
    return (input_gradient_norm(critic, perturbed) - center).pow(2).mean()


def probe(options: dict, every: int = 250) -> list[tuple[int, dict, float, float]]:
    options = dict(options)
    gaussian = options.pop("gaussian", False)
    dragan_module.dragan_penalty = gaussian_dragan_penalty if gaussian else uniform_penalty
    tree = {"model": "dragan", "data": {"name": "ring8"},
            "train": {"steps": 5000, "batch_size": 256, "lr_decay": "linear", "lr_decay_start": 0.5,
                      "precision": "fp32", "seed": 0},
            "options": {"width": 128, "lr": 1e-3, **options}}
    config = resolve(tree, get_model("dragan").Options)
    run_dir = Path(tempfile.mkdtemp()) / "run"
    trainer = Trainer(config, run_dir, notify=lambda message: None)
    run_dir.mkdir(parents=True)
    logger, data, trace = MetricsLogger(run_dir, resume_step=0), trainer.dataset, []
    while trainer.step < config.train.steps:
        trainer.train_round(logger)
        if trainer.step % every == 0:
            with torch.random.fork_rng():  # measuring leaves training's random stream as it was
                with torch.no_grad():
                    samples = trainer.model.sample(2500)
                grad_norm = input_gradient_norm(trainer.model.score, data.sample(2500)).mean().item()
            off_circle = (samples.norm(dim=1) - 1).abs().mean().item()
            trace.append((trainer.step, mode_metrics(samples, data.modes, data.std), off_circle, grad_norm))
    return trace


if __name__ == "__main__":
    torch.set_num_threads(1)
    print("| variant | modes /8 at 5,000 | % HQ at 5,000 | mean abs(r - 1), rounds 2,500-5,000 | its minimum | "
          "mean grad-norm of D at real points, rounds 2,500-5,000 |")
    print("|---|---|---|---|---|---|")
    for name, options in VARIANTS.items():
        trace = probe(options)
        late = [t for t in trace if t[0] >= 2500]
        final = trace[-1][1]
        print(f"| {name} | {final['modes_covered']} | {final['high_quality_pct']:.1f} | "
              f"{statistics.mean(t[2] for t in late):.3f} | {min(t[2] for t in late):.3f} | "
              f"{statistics.mean(t[3] for t in late):.2f} |", flush=True)

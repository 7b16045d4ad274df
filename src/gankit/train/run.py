"""Run directories: create, validate, and rebuild a trained model from one.

    RUN/config.yaml           every resolved setting
    RUN/checkpoints/latest.pt the newest checkpoint (plus step_NNNNNNN.pt every checkpoint_every)
    RUN/samples/*.png         sample grids / scatter plots
    RUN/metrics.jsonl         logged training values
    RUN/tb/                   TensorBoard events
    RUN/eval.json             written by `gankit eval`
    RUN/machine.json          the machine each training session ran on (CPU, GPU, torch, threads, processes)
    RUN/holdout.txt           image folders: the files kept out of training (relative paths, one a line)
    RUN/nearest_train.png     image folders, after evaluation: samples above their nearest training images
"""
from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Optional

import torch
import yaml

from gankit.config import DataConfig, RunConfig, resolve
from gankit.data import (DataSpec, FolderImages, FolderPhotos, StreamedFolder, data_root, draw_holdout, is_rooted,
                         split_folder)
from gankit.errors import DataNotFound, GankitError
from gankit.machine import describe
from gankit.registry import get_model
from gankit.train.checkpoint import load_checkpoint
from gankit.train.ema import recalibrate_batchnorm

CONFIG_FILE = "config.yaml"
LATEST = Path("checkpoints") / "latest.pt"
MACHINE_FILE = "machine.json"
HOLDOUT_FILE = "holdout.txt"
NEAREST_PICTURE = "nearest_train.png"
HELD_OUT_FOLDERS = (FolderImages, StreamedFolder, FolderPhotos)  # image folders a run splits, keeping a share out of training


def dataset_slug(name: str) -> str:
    """A dataset name as one safe path component: pairs:mnist-edges>mnist -> pairs_mnist-edges-to-mnist."""
    return name.replace(">", "-to-").replace(":", "_").replace("/", "_")


def new_run_dir(out: Optional[str], model: str, data: str) -> Path:
    """The folder a new run writes to; an existing non-empty folder is refused."""
    if out is None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        out = str(Path("runs") / f"{model}-{dataset_slug(data)}-{stamp}")
    path = Path(out)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise GankitError(f"{path} already exists and is not empty; choose another --out, "
                          f"or continue it with 'gankit train --resume {path}'.")
    return path


def read_run_config(run_dir: Path) -> RunConfig:
    """The validated config of an existing run; errors if ``run_dir`` is not a run."""
    config_path = run_dir / CONFIG_FILE
    if not run_dir.is_dir() or not config_path.is_file() or not (run_dir / LATEST).is_file():
        raise GankitError(f"{run_dir} is not a gankit run directory (it needs {CONFIG_FILE} and {LATEST}).")
    try:
        tree = yaml.safe_load(config_path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise GankitError(f"{config_path} could not be read ({error}).") from None
    if not isinstance(tree, dict) or "model" not in tree:
        raise GankitError(f"{config_path} is not a gankit run config.")
    return resolve(tree, get_model(tree["model"]).Options)


def pin_data(data: DataConfig) -> None:
    """Write where the data really is into ``data``, so a run can find it again from any shell:
    the absolute root of a torchvision-layout set (from --data-root, $GANKIT_DATA or the cache
    folder) and the absolute path of an image folder."""
    folder = split_folder(data.name)
    if folder is not None:
        prefix, path = folder
        data.name = prefix + str(Path(path).expanduser().resolve())
    elif is_rooted(data.name):
        data.root = str(data_root(data.root).resolve())


def relocate(data: DataConfig, data_root: Optional[str]) -> DataConfig:
    """A copy of ``data`` that looks for the data under ``data_root`` (--data-root) instead; None keeps it.

    For an image folder run (one domain or two), ``data_root`` is the folder itself.
    """
    if data_root is None:
        return dataclasses.replace(data)
    folder = Path(data_root).expanduser()
    if not folder.is_dir():
        raise GankitError(f"--data-root {data_root} is not a folder.")
    image_folder = split_folder(data.name)
    if image_folder is not None:
        return dataclasses.replace(data, name=image_folder[0] + str(folder.resolve()))
    return dataclasses.replace(data, root=str(folder.resolve()))


def folder_part(dataset, run_dir: Path, split: str):
    """An image-folder run's training images (``split`` "train") or held-out ones (any other split), as
    RUN/holdout.txt lists them; other data comes back unchanged. A folder run without holdout.txt
    (trained before gankit kept images out) trained on, and is scored against, the whole folder."""
    if not isinstance(dataset, HELD_OUT_FOLDERS):
        return dataset
    path = run_dir / HOLDOUT_FILE
    if not path.is_file():
        return dataset
    part = dataset.part(path.read_text().splitlines(), held_out=split != "train")
    if not len(part):
        which = "training" if split == "train" else "held-out"
        raise GankitError(f"{split_folder(dataset.spec.name)[1]} no longer holds any of this run's {which} images "
                          f"({path} lists the held-out ones); pass --data-root DIR if they have moved.")
    return part


def training_part(dataset, run_dir: Path, fraction: float, seed: int):
    """(training images, the files to record in RUN/holdout.txt or None) for a run starting or resuming
    in ``run_dir``: a new image-folder run keeps a seeded ``fraction`` out; a run that exists keeps its split."""
    if not isinstance(dataset, HELD_OUT_FOLDERS) or any((run_dir / f).is_file() for f in (HOLDOUT_FILE, LATEST)):
        return folder_part(dataset, run_dir, "train"), None
    held_out = draw_holdout(dataset, fraction, seed)
    return dataset.part(held_out, held_out=False), held_out


def run_data(config: RunConfig, split: str, data_root: Optional[str] = None, run_dir: Optional[Path] = None):
    """The data of a trained run: where config.yaml says it was, or under ``data_root`` (--data-root);
    for an image-folder run, the part of the folder that ``split`` names (``run_dir`` holds the split).

    Nothing is downloaded and config.yaml is not changed; a folder that does not
    hold the data is one clear error.
    """
    from gankit.train.trainer import load_data

    data = dataclasses.replace(relocate(config.data, data_root), download=False)
    try:
        dataset = load_data(data, split)
    except DataNotFound:
        if data_root is not None:
            raise GankitError(f"--data-root {data_root} does not hold {config.data.name} in torchvision's layout "
                              f"(MNIST/raw/..., FashionMNIST/raw/...).") from None
        image_folder = split_folder(data.name)
        where = image_folder[1] if image_folder is not None else data.root or "the default root"
        raise GankitError(f"this run's data ({config.data.name}) is no longer at {where}, where config.yaml says "
                          f"it was; pass --data-root DIR to point the run at it.") from None
    if isinstance(dataset, HELD_OUT_FOLDERS) and run_dir is None:
        raise ValueError("an image-folder run's data needs its run directory, which records its held-out split")
    return dataset if run_dir is None else folder_part(dataset, run_dir, split)


def record_machine(run_dir: Path, step: int, processes: int) -> None:
    """Append this machine to RUN/machine.json: one entry per training session, from ``step`` on, with the
    number of processes that trained together (torchrun's world size)."""
    path = run_dir / MACHINE_FILE
    try:
        sessions = json.loads(path.read_text())["sessions"] if path.exists() else []
    except (OSError, ValueError, KeyError, TypeError):
        sessions = []  # unreadable: start the record afresh rather than stop training
    sessions.append({"from_step": step, **describe(), "processes": processes})
    path.write_text(json.dumps({"sessions": sessions}, indent=2) + "\n")


def pick_device(choice: str) -> torch.device:
    if choice == "cuda" or (choice == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise GankitError("--device cuda was asked for but no CUDA device is available.")
        return torch.device("cuda")
    return torch.device("cpu")


def load_model(run_dir: Path, device: str = "auto", use_ema: bool = True):
    """(config, model in eval mode, step) from a run's latest checkpoint.

    With ``use_ema`` the EMA weights, when the run kept them, replace the live ones
    (with BatchNorm statistics re-estimated for them).
    """
    config = read_run_config(run_dir)
    state = load_checkpoint(run_dir / LATEST, config.model)
    model = get_model(config.model)(config.options, data_spec(state["data_spec"]))
    load_state(model, state["model"], run_dir)
    model = model.to(pick_device(device))
    if use_ema and state.get("ema"):
        for name, averaged in state["ema"].items():
            weights = {k[len("module."):]: v for k, v in averaged.items() if k.startswith("module.")}
            load_state(getattr(model, name), weights, run_dir)
        recalibrate_batchnorm(model, [getattr(model, name) for name in state["ema"]])
    return config, model.eval(), int(state["step"])


def data_spec(recorded: dict) -> DataSpec:
    """The DataSpec a checkpoint recorded (lists back to tuples; older checkpoints lack the two-domain
    and attribute keys)."""
    shape_b, attributes = recorded.get("shape_b"), recorded.get("attributes")
    return DataSpec(recorded["name"], recorded["kind"], tuple(recorded["shape"]), recorded.get("num_classes"),
                    None if shape_b is None else tuple(shape_b), recorded.get("paired"),
                    None if attributes is None else tuple((name, tuple(values)) for name, values in attributes))


def load_state(module: torch.nn.Module, weights: dict, run_dir: Path) -> None:
    try:
        module.load_state_dict(weights)
    except RuntimeError:
        raise GankitError(f"the checkpoint in {run_dir} does not fit the networks its config describes.") from None

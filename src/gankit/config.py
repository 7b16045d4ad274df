"""Typed run configuration: defaults, YAML files and ``--set key=value`` overrides.

A run's config has four sections: ``data``, ``train``, ``options`` (the
model's own hyperparameters, a dataclass each model declares with its paper's
defaults) and ``model`` (the name). Every key is checked against its dataclass:
unknown keys and ill-typed values are errors, never silently ignored.
"""
from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Optional, Union

import yaml

from gankit.errors import GankitError


@dataclass
class DataConfig:
    name: str = "digits"
    # torchvision-layout folder; None: $GANKIT_DATA or ~/.cache/gankit/data. A run records the absolute one.
    root: Optional[str] = None
    # resize square images; None: the native size, or the nearest larger one the model's nets support
    image_size: Optional[int] = None
    channels: Optional[int] = None  # image folders only: 1 or 3 (default 3)
    # image folders only: the share of images kept out of training (chosen by train.seed) to evaluate against
    holdout: float = 0.1
    # image folders only: GiB of decoded images a folder may take in memory; a larger one streams from disk
    # (decoded by data.workers DataLoader processes). None: a quarter of this machine's RAM
    memory_budget: Optional[float] = None
    workers: Optional[int] = None  # streamed folders: decoding processes; None: half the cores, 1 to 4
    download: bool = True  # let torchvision download MNIST / Fashion-MNIST when they are absent
    # semi-supervised models: keep this many training labels, balanced per class, chosen by train.seed
    labels: Optional[int] = None

    def validate(self) -> None:
        for key in ("image_size", "labels"):
            if getattr(self, key) is not None and getattr(self, key) < 1:
                raise GankitError(f"data.{key} must be positive, not {getattr(self, key)}.")
        if self.memory_budget is not None and self.memory_budget <= 0:
            raise GankitError(f"data.memory_budget must be a positive number of GiB, not {self.memory_budget}.")
        if self.workers is not None and self.workers < 0:
            raise GankitError(f"data.workers must be 0 (decode in the training process) or more, not {self.workers}.")
        if not 0.0 < self.holdout <= 0.5:
            raise GankitError(f"data.holdout must lie in (0, 0.5], not {self.holdout}.")


@dataclass
class TrainConfig:
    steps: Optional[int] = None  # generator steps (rounds); default 5000 unless epochs is set
    epochs: Optional[float] = None  # alternative to steps: passes over the training set
    batch_size: int = 64
    seed: int = 0
    device: Literal["auto", "cpu", "cuda"] = "auto"
    # auto: bf16 autocast for images where the hardware computes bf16 natively, else fp32 (a run records which)
    precision: Literal["auto", "fp32", "bf16"] = "auto"
    channels_last: bool = True  # NHWC memory layout for image models (fast with bf16)
    ema_decay: float = 0.0  # > 0 keeps an exponential moving average of G's weights
    lr_decay: Literal["none", "linear", "step"] = "none"  # applies to every learning rate of the run:
    lr_decay_start: float = 0.5  # linear: falls linearly to 0, starting at this fraction of the total steps
    lr_step_every: int = 10000  # step: multiplied by lr_step_factor every this many steps ...
    lr_step_factor: float = 0.5  # ... (BEGAN halves its rate as training stalls)
    log_every: int = 50
    sample_every: int = 500
    checkpoint_every: int = 1000
    eval_samples: int = 2000  # samples for the evaluation printed at the end of training; 0 skips it
    # torchrun: BatchNorm -> SyncBatchNorm. Refused: gankit averages gradients itself (gankit.train.distributed)
    sync_batchnorm: bool = False
    # torch.compile of every player's loss (forward and objective; on CUDA with CUDA graphs). A loss that
    # cannot be compiled runs uncompiled after one warning line (gankit.train.compile)
    compile: bool = False
    compile_backend: str = "inductor"  # torch.compile's backend; aot_eager traces without generating code

    def validate(self) -> None:
        positive = {"batch_size": self.batch_size, "lr_step_every": self.lr_step_every, "log_every": self.log_every,
                    "sample_every": self.sample_every, "checkpoint_every": self.checkpoint_every}
        if self.steps is not None:
            positive["steps"] = self.steps
        for key, value in positive.items():
            if value < 1:
                raise GankitError(f"train.{key} must be at least 1, not {value}.")
        if self.epochs is not None and self.epochs <= 0:
            raise GankitError(f"train.epochs must be positive, not {self.epochs}.")
        if self.steps is not None and self.epochs is not None:
            raise GankitError("give train.steps or train.epochs, not both.")
        if not 0.0 <= self.lr_decay_start < 1.0:
            raise GankitError(f"train.lr_decay_start must lie in [0, 1), not {self.lr_decay_start}.")
        if not 0.0 < self.lr_step_factor <= 1.0:
            raise GankitError(f"train.lr_step_factor must lie in (0, 1], not {self.lr_step_factor}.")
        if not 0.0 <= self.ema_decay < 1.0:
            raise GankitError(f"train.ema_decay must lie in [0, 1), not {self.ema_decay}.")
        if self.eval_samples < 0:
            raise GankitError(f"train.eval_samples must be 0 or more, not {self.eval_samples}.")


DEFAULT_STEPS = 5000


@dataclass
class RunConfig:
    model: str
    options: Any  # the model's Options dataclass instance
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict:
        return {"model": self.model, "data": dataclasses.asdict(self.data),
                "train": dataclasses.asdict(self.train), "options": _plain(dataclasses.asdict(self.options))}

    def save(self, path: Path) -> None:
        path.write_text(yaml.safe_dump(self.to_dict(), sort_keys=False))


def _plain(value: Any) -> Any:
    """Tuples become lists so YAML stays plain."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


# --- checking values against dataclass field types ---------------------------

def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is Literal:
        choices = [repr(a) for a in typing.get_args(tp)]
        return " or ".join(choices) if len(choices) < 3 else "one of " + ", ".join(choices)
    if origin in (Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    if origin is tuple:
        return "a list of " + ", ".join(_type_name(a) for a in typing.get_args(tp))
    return "null" if tp is type(None) else getattr(tp, "__name__", str(tp))


def coerce(value: Any, tp: Any, key: str) -> Any:
    """Return ``value`` as type ``tp`` or raise GankitError naming ``key``."""
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        for option in typing.get_args(tp):
            try:
                return coerce(value, option, key)
            except GankitError:
                continue
    elif origin is Literal:
        if value in typing.get_args(tp):
            return value
    elif origin is tuple:
        args = typing.get_args(tp)
        if isinstance(value, (list, tuple)) and len(value) == len(args):
            return tuple(coerce(v, a, key) for v, a in zip(value, args))
    elif tp is type(None):
        if value is None:
            return None
    elif tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):  # YAML 1.1 reads '1e-4' (no dot) as a string
            try:
                return float(value)
            except ValueError:
                pass
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif isinstance(value, tp):
        return value
    raise GankitError(f"config key '{key}' must be {_type_name(tp)}, not {value!r}.")


def build_dataclass(cls: type, values: dict, section: str) -> Any:
    """Instantiate dataclass ``cls`` from ``values``, rejecting unknown keys and bad types."""
    if not isinstance(values, dict):
        raise GankitError(f"config section '{section}' must be a mapping, not {values!r}.")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    kwargs = {}
    refused = getattr(cls, "NOT_OFFERED", {})  # options a model leaves out on purpose, with the reason
    for key, value in values.items():
        if key in refused:
            raise GankitError(f"{section}.{key} does not apply here: {refused[key]}.")
        if key not in names:
            close = difflib.get_close_matches(str(key), names, n=1)
            hint = f" (did you mean '{section}.{close[0]}'?)" if close else ""
            raise GankitError(f"unknown config key '{section}.{key}'{hint}; valid keys: {', '.join(names)}.")
        kwargs[key] = coerce(value, hints[key], f"{section}.{key}")
    instance = cls(**kwargs)
    check = getattr(instance, "validate", None)
    if check is not None:
        check()
    return instance


def parse_assignment(text: str) -> tuple[list[str], Any]:
    """'train.steps=100' -> (['train', 'steps'], 100); values are parsed as YAML scalars."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise GankitError(f"--set expects key=value, got '{text}'.")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        value = raw
    return key.strip().split("."), value


def merge_assignment(tree: dict, path: list[str], value: Any) -> None:
    if len(path) != 2 or path[0] not in ("data", "train", "options"):
        raise GankitError(f"unknown config key '{'.'.join(path)}'; keys look like data.X, train.X or options.X.")
    tree.setdefault(path[0], {})[path[1]] = value


def load_yaml(path: str) -> dict:
    try:
        tree = yaml.safe_load(Path(path).read_text())
    except FileNotFoundError:
        raise GankitError(f"config file {path} does not exist.") from None
    except (OSError, yaml.YAMLError) as error:
        raise GankitError(f"config file {path} could not be read: {error}".rstrip(".") + ".") from None
    if tree is None:
        return {}
    if not isinstance(tree, dict):
        raise GankitError(f"config file {path} must hold a mapping at the top level.")
    unknown = set(tree) - {"model", "data", "train", "options"}
    if unknown:
        raise GankitError(f"unknown config section(s) {', '.join(sorted(map(str, unknown)))} in {path}; "
                          f"sections are model, data, train and options.")
    return tree


def resolve(tree: dict, options_cls: type) -> RunConfig:
    """Build a RunConfig from a merged tree {model, data, train, options}."""
    return RunConfig(
        model=tree["model"],
        data=build_dataclass(DataConfig, tree.get("data") or {}, "data"),
        train=build_dataclass(TrainConfig, tree.get("train") or {}, "train"),
        options=build_dataclass(options_cls, tree.get("options") or {}, "options"),
    )

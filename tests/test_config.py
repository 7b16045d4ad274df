"""Typed, strict configuration."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional

import pytest
import yaml

from gankit.config import DataConfig, TrainConfig, build_dataclass, parse_assignment, resolve
from gankit.errors import GankitError
from gankit.registry import get_model


@dataclass
class Example:
    rate: float = 0.1
    count: int = 3
    flag: bool = False
    size: Optional[int] = None
    pair: tuple[float, float] = (0.5, 0.9)
    mode: Literal["a", "b"] = "a"


def test_values_are_coerced_to_field_types():
    built = build_dataclass(Example, {"rate": 1, "size": 7, "pair": [0, 0.99], "mode": "b"}, "x")
    assert built.rate == 1.0 and isinstance(built.rate, float)
    assert built.size == 7 and built.pair == (0.0, 0.99) and built.mode == "b"
    assert build_dataclass(Example, {"size": None}, "x").size is None


@pytest.mark.parametrize("values,fragment", [
    ({"count": 2.5}, "'x.count' must be int"),
    ({"count": True}, "'x.count' must be int"),
    ({"flag": "yes"}, "'x.flag' must be bool"),
    ({"pair": [1.0]}, "'x.pair' must be a list of float, float"),
    ({"mode": "c"}, "'x.mode' must be 'a' or 'b'"),
    ({"rat": 1.0}, "unknown config key 'x.rat' (did you mean 'x.rate'?)"),
])
def test_bad_values_are_rejected(values, fragment):
    with pytest.raises(GankitError) as info:
        build_dataclass(Example, values, "x")
    assert fragment in str(info.value)


def test_assignments_parse_yaml_scalars():
    assert parse_assignment("train.steps=100") == (["train", "steps"], 100)
    key, value = parse_assignment("options.lr=1e-4")  # YAML 1.1 leaves this a string ...
    assert build_dataclass(Example, {"rate": value}, "x").rate == 1e-4  # ... that a float field accepts
    assert parse_assignment("options.betas=[0, 0.9]") == (["options", "betas"], [0, 0.9])
    assert parse_assignment("data.root=/tmp/x") == (["data", "root"], "/tmp/x")
    with pytest.raises(GankitError):
        parse_assignment("no-equals-sign")


@pytest.mark.parametrize("train,fragment", [
    ({"steps": 0}, "train.steps must be at least 1"),
    ({"batch_size": -2}, "train.batch_size must be at least 1"),
    ({"steps": 5, "epochs": 1.0}, "not both"),
    ({"ema_decay": 1.0}, "train.ema_decay must lie in [0, 1)"),
    ({"epochs": 0.0}, "train.epochs must be positive"),
])
def test_train_section_is_validated(train, fragment):
    with pytest.raises(GankitError) as info:
        build_dataclass(TrainConfig, train, "train")
    assert fragment in str(info.value)


def test_resolved_config_round_trips_through_yaml(tmp_path):
    options = get_model("dcgan").Options
    config = resolve({"model": "dcgan", "train": {"steps": 7}, "options": {"betas": [0.0, 0.9]}}, options)
    config.save(tmp_path / "config.yaml")
    tree = yaml.safe_load((tmp_path / "config.yaml").read_text())
    again = resolve(tree, options)
    assert again == config
    assert again.options.betas == (0.0, 0.9) and again.options.z_dim == 100
    assert again.data == DataConfig()

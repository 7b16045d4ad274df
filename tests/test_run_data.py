"""A run remembers where its data and its machine were: config.yaml holds the absolute data root,
eval / sample / resume find the data from any shell or take --data-root, and machine.json says
where the run was trained. Also: every error message that suggests a flag names one the command has."""
from __future__ import annotations

import ast
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from gankit.cli import build_parser, main

from test_cli import TINY, assert_one_sentence_error, run, snapshot

SRC = Path(__file__).resolve().parents[1] / "src" / "gankit"


@pytest.fixture()
def data_link(tmp_path, shared_data) -> Path:
    """A data root of our own (a symlink to the offline MNIST), so a test can move or remove it."""
    root = tmp_path / "data"
    root.mkdir()
    (root / "MNIST").symlink_to(shared_data / "MNIST")
    return root


@pytest.fixture()
def mnist_run(tmp_path, data_link, monkeypatch) -> Path:
    """gan (MLP nets) trained on MNIST for 3 steps with the data root given only through GANKIT_DATA."""
    monkeypatch.setenv("GANKIT_DATA", str(data_link))
    run_dir = tmp_path / "run"
    assert main(["train", "gan", "--data", "mnist", "--steps", "3", "--out", str(run_dir), *TINY]) == 0
    monkeypatch.delenv("GANKIT_DATA")
    return run_dir


def test_config_records_the_absolute_data_root(mnist_run, data_link):
    config = yaml.safe_load((mnist_run / "config.yaml").read_text())
    assert config["data"]["root"] == str(data_link.resolve())


def test_eval_and_sample_find_the_data_without_the_environment(capsys, mnist_run, monkeypatch):
    monkeypatch.chdir(mnist_run.parent.parent)  # another working directory, GANKIT_DATA unset
    capsys.readouterr()  # the fixture's training output
    code, out, err = run(capsys, "eval", mnist_run, "-n", 200, "--json")
    assert code == 0, err
    assert json.loads(out)["metrics"]["real_images"] == 200
    code, _, err = run(capsys, "sample", mnist_run, "-n", 4)
    assert code == 0, err


def test_data_root_flag_points_a_moved_run_at_its_data(capsys, mnist_run, data_link, tmp_path):
    moved = tmp_path / "moved"
    data_link.rename(moved)
    config_before = (mnist_run / "config.yaml").read_bytes()
    before = snapshot(mnist_run)
    for argv in (["eval", mnist_run, "-n", 100], ["train", "--resume", mnist_run, "--steps", 5, "-q"]):
        code, _, err = run(capsys, *argv)
        assert_one_sentence_error(code, err, f"is no longer at {data_link.resolve()}")
        assert "pass --data-root DIR" in err
    assert snapshot(mnist_run) == before

    code, _, err = run(capsys, "eval", mnist_run, "-n", 100, "--data-root", moved)
    assert code == 0, err
    code, _, err = run(capsys, "train", "--resume", mnist_run, "--steps", 5, "--data-root", moved, "-q")
    assert code == 0, err
    recorded = yaml.safe_load((mnist_run / "config.yaml").read_text())
    assert recorded["train"]["steps"] == 5  # the new total is kept ...
    assert recorded["data"] == yaml.safe_load(config_before)["data"]  # ... the data section is not rewritten


@pytest.mark.parametrize("command", ["eval", "sample"])
def test_wrong_data_root_is_one_sentence_and_leaves_the_run_alone(capsys, mnist_run, tmp_path, command):
    (tmp_path / "empty").mkdir()
    before = snapshot(mnist_run)
    for wrong, fragment in ((tmp_path / "empty", "does not hold mnist"), (tmp_path / "nowhere", "is not a folder")):
        code, _, err = run(capsys, command, mnist_run, "-n", 10, "--data-root", wrong)
        assert_one_sentence_error(code, err, fragment)
    assert snapshot(mnist_run) == before


def test_image_folder_runs_record_an_absolute_path(capsys, tmp_path, monkeypatch):
    from test_cli import _write_pngs

    _write_pngs(tmp_path / "photos", 20)
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "train", "gan", "--data", "folder:photos", "--steps", 1, "--batch-size", 8,
                       "--set", "data.image_size=8", "--out", "run", *TINY)
    assert code == 0, err
    name = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())["data"]["name"]
    assert name == f"folder:{(tmp_path / 'photos').resolve()}"


def test_machine_json_records_each_training_session(capsys, mnist_run):
    sessions = json.loads((mnist_run / "machine.json").read_text())["sessions"]
    assert [s["from_step"] for s in sessions] == [0]
    assert {"cpu", "cpu_features", "cpu_cores", "gpu", "torch", "threads"} <= set(sessions[0])
    assert sessions[0]["threads"] == 1  # conftest runs the tests single-threaded
    code, _, err = run(capsys, "train", "--resume", mnist_run, "--steps", 4, "-q")
    assert code == 0, err
    sessions = json.loads((mnist_run / "machine.json").read_text())["sessions"]
    assert [s["from_step"] for s in sessions] == [0, 3]


def test_machine_summary_names_cpu_features_and_threads():
    from gankit.machine import summary

    line = summary({"cpu": "AMD EPYC", "cpu_features": ["AVX2", "AVX-512"], "cpu_cores": 2, "gpu": None,
                    "torch": "2.14.1", "threads": 1})
    assert line == "AMD EPYC (AVX2, AVX-512), 2 cores, 1 thread, torch 2.14.1, no GPU"
    assert summary(None) == "not recorded"


# --- error messages suggest only flags that exist --------------------------------------------

SUGGESTION = re.compile(r"\b(?:pass|use|with|point|choose another|only) (--[a-z][a-z-]*)")
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z-]*")


def _accepted_flags(command: list[str]) -> set[str]:
    parser = build_parser()
    for name in command:
        parser = next(a for a in parser._actions if a.dest in ("command", "action")).choices[name]
    return {flag for action in parser._actions for flag in action.option_strings}


def _source_suggestions() -> set[str]:
    """Every 'pass --X'-style phrase in the literal text of a raised error, across the package."""
    found = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args:
                text = "".join(part.value for part in ast.walk(node.exc.args[0])
                               if isinstance(part, ast.Constant) and isinstance(part.value, str))
                found |= {match.group(0) for match in SUGGESTION.finditer(text)}
    return found


@pytest.fixture()
def suggestion_cases(tmp_path, mnist_run, data_link):
    """(command, argv) pairs, each failing with an error that suggests a flag."""
    empty = tmp_path / "empty"
    empty.mkdir()
    moved = tmp_path / "moved"
    data_link.rename(moved)
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "x").write_text("taken")
    suite = tmp_path / "suite.yaml"
    suite.write_text("datasets: [ring8]\ntrain: {steps: 2}\nmodels:\n  gan: {options: {width: 8}}\n")
    damaged = tmp_path / "damaged" / "MNIST" / "raw"
    damaged.mkdir(parents=True)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"):
        (damaged / name).write_bytes(b"not an idx file")
    stale = tmp_path / "bench" / "runs" / "gan" / "ring8" / "seed0"
    stale.parent.mkdir(parents=True)
    shutil.copytree(mnist_run, stale)
    return [
        (["train"], ["train"]),
        (["train"], ["train", "gan", "--data", "mnist", "--data-root", empty, "--set", "data.download=false"]),
        (["train"], ["train", "gan", "--data", "mnist", "--data-root", damaged.parents[1]]),
        (["train"], ["train", "--resume", mnist_run, "--batch-size", 3]),
        (["train"], ["train", "--resume", mnist_run, "--steps", 2, "--data-root", moved]),
        (["train"], ["train", "--resume", mnist_run, "--data-root", moved, "--steps", 3]),
        (["train"], ["train", "gan", "--data", "ring8", "--out", occupied]),
        (["eval"], ["eval", mnist_run]),
        (["sample"], ["sample", mnist_run, "--data-root", empty]),
        (["bench"], ["bench", suite, "--out", tmp_path / "bench"]),
        (["classifier", "train"], ["classifier", "train", "--data", "mnist", "--data-root", empty]),
    ]


def test_every_suggested_flag_exists_on_the_command_that_suggests_it(capsys, suggestion_cases):
    seen = set()
    for command, argv in suggestion_cases:
        code, _, err = run(capsys, *argv)
        assert code == 2, (argv, err)
        assert FLAG.search(err), f"{argv} named no flag: {err}"
        for flag in FLAG.findall(err):
            assert flag in _accepted_flags(command), f"'gankit {' '.join(command)}' names {flag}: {err}"
        seen |= {match.group(0) for match in SUGGESTION.finditer(err)}
    # Every suggestion written in the package is printed by one of the cases above, so a new
    # message cannot name a flag without this test checking it against its command.
    missing = _source_suggestions() - seen
    assert not missing, f"no case reaches the message(s) suggesting {missing}"

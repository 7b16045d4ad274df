"""The command line end to end, and every bad-input case: one sentence on
stderr, exit status 2, and no file of an existing run directory touched."""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import yaml
import pytest
from PIL import Image

from gankit.cli import main

TINY = ["--set", "options.width=16", "--set", "options.z_dim=8", "--set", "train.log_every=5",
        "--set", "train.sample_every=1000", "--set", "train.eval_samples=500", "-q"]


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def write_images(folder: Path, count: int, size: tuple[int, int], mode: str, seed: int = 0) -> None:
    """``count`` random-noise PNGs of ``size`` (width, height) in PIL ``mode`` ("L" or "RGB") under ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    shape = (size[1], size[0]) + ((3,) if mode == "RGB" else ())
    for i in range(count):
        Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode).save(folder / f"img{i:02d}.png")


def assert_one_sentence_error(code, err, fragment):
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gankit: error: "), err
    assert "Traceback" not in err
    assert fragment in lines[0]


@pytest.fixture(scope="module")
def gan_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("runs") / "gan"
    assert main(["train", "gan", "--data", "ring8", "--steps", "10", "--out", str(run_dir), *TINY]) == 0
    return run_dir


@pytest.fixture(scope="module")
def dcgan_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("runs") / "dcgan"
    assert main(["train", "dcgan", "--data", "digits", "--steps", "4", "--out", str(run_dir), *TINY]) == 0
    return run_dir


# --- the happy paths -----------------------------------------------------------------

def test_list_shows_models_and_datasets(capsys):
    code, out, _ = run(capsys, "list")
    assert code == 0
    assert "gan " in out and "dcgan" in out and "ring8" in out and "digits" in out


def test_list_reads_from_the_model_files_what_the_registry_holds():
    from gankit.catalogue import model_entries
    from gankit.registry import all_models

    listed = {name: (e.family, e.summary, e.paper) for name, e in model_entries().items()}
    assert listed == {name: (cls.family, cls.summary, cls.paper) for name, cls in all_models().items()}


def test_list_and_train_help_leave_torch_unimported():
    """They start in well under a second because they do not import torch (seconds on a 2-core machine)."""
    script = ("import sys\nfrom gankit.cli import main\nmain(['list'])\n"
              "try:\n    main(['train', '--help'])\nexcept SystemExit:\n    pass\n"
              "sys.stderr.write(' '.join(m for m in ('torch', 'numpy') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stderr == "" and "dcgan" in result.stdout and "--resume" in result.stdout


def test_train_writes_a_complete_run(gan_run):
    names = {p.name for p in gan_run.iterdir()}
    assert {"config.yaml", "checkpoints", "samples", "metrics.jsonl", "tb", "eval.json"} <= names
    assert (gan_run / "checkpoints" / "latest.pt").is_file()
    assert any((gan_run / "tb").iterdir())
    lines = (gan_run / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == [5, 10]
    assert {"D/loss", "G/loss", "steps_per_sec"} <= set(json.loads(lines[-1]))


def test_eval_on_ring8_reports_mode_metrics_and_plots(capsys, gan_run):
    code, out, _ = run(capsys, "eval", gan_run, "--json")
    assert code == 0
    result = json.loads(out)
    assert result["samples"] == 2500 and result["step"] == 10
    metrics = result["metrics"]
    assert metrics["modes_total"] == 8 and 0 <= metrics["modes_covered"] <= 8
    assert 0.0 <= metrics["high_quality_pct"] <= 100.0
    assert json.loads((gan_run / "eval.json").read_text())["metrics"] == metrics
    assert (gan_run / "eval_samples.png").stat().st_size > 1000


def test_sample_writes_a_png(capsys, dcgan_run, tmp_path):
    out_file = tmp_path / "grid.png"
    code, out, _ = run(capsys, "sample", dcgan_run, "-n", 16, "--out", out_file)
    assert code == 0 and "wrote 16 samples" in out
    with Image.open(out_file) as image:
        assert image.size == (4 * 33 + 1, 4 * 33 + 1)  # 4x4 grid of 8x8 digits shown at 32x32, 1-pixel padding


def test_resume_continues_to_more_steps(capsys, tmp_path):
    run_dir = tmp_path / "run"
    assert main(["train", "gan", "--data", "ring8", "--steps", "6", "--out", str(run_dir), *TINY]) == 0
    code, _, _ = run(capsys, "train", "--resume", run_dir, "--steps", 10, "-q")
    assert code == 0
    steps = [json.loads(line)["step"] for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert steps == [5, 6, 10]
    assert "steps: 10" in (run_dir / "config.yaml").read_text()


def test_console_script_exit_code(tmp_path):
    result = subprocess.run([sys.executable, "-m", "gankit.cli", "train", "no-such-model"],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.startswith("gankit: error: unknown model 'no-such-model'")


# --- bad input -----------------------------------------------------------------------

@pytest.mark.parametrize("command,out,fragment", [("translate", "out", "does not translate images"),
                                                 ("inpaint", "out", "does not inpaint images"),
                                                 ("encode", "codes.npy", "which has no encoder"),
                                                 ("upscale", "out", "does not upscale images")])
def test_run_commands_refuse_a_run_of_another_family(capsys, dcgan_run, tmp_path, command, out, fragment):
    write_images(tmp_path / "mine", 2, (16, 16), "L")
    before = snapshot(dcgan_run)
    code, _, err = run(capsys, command, dcgan_run, "--input", tmp_path / "mine", "--out", tmp_path / out)
    assert_one_sentence_error(code, err, fragment)
    assert snapshot(dcgan_run) == before and not (tmp_path / out).exists()


def test_unknown_model(capsys):
    assert_one_sentence_error(*run(capsys, "train", "dcgna")[::2], "did you mean 'dcgan'")


def test_unknown_dataset(capsys, tmp_path):
    code, _, err = run(capsys, "train", "gan", "--data", "cifar", "--out", tmp_path / "r")
    assert_one_sentence_error(code, err, "unknown dataset 'cifar'")
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("assignment,fragment", [
    ("train.stepz=5", "unknown config key 'train.stepz' (did you mean 'train.steps'?)"),
    ("options.lrr=0.1", "unknown config key 'options.lrr'"),
    ("optim.lr=0.1", "unknown config key 'optim.lr'"),
    ("train.batch_size=big", "config key 'train.batch_size' must be int"),
    ("train.precision=fp16", "config key 'train.precision' must be one of 'auto', 'fp32', 'bf16', not 'fp16'"),
])
def test_bad_config_keys(capsys, tmp_path, assignment, fragment):
    code, _, err = run(capsys, "train", "gan", "--set", assignment, "--out", tmp_path / "r")
    assert_one_sentence_error(code, err, fragment)
    assert not (tmp_path / "r").exists()


def test_bad_config_file(capsys, tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("model: gan\ntrainer: {steps: 3}\n")
    assert_one_sentence_error(*run(capsys, "train", "--config", config)[::2], "unknown config section(s) trainer")


def test_data_root_without_dataset_while_offline(capsys, tmp_path):
    code, _, err = run(capsys, "train", "gan", "--data", "mnist", "--data-root", tmp_path / "empty",
                       "--out", tmp_path / "r")
    assert_one_sentence_error(code, err, "mnist was not found under")
    assert not (tmp_path / "r").exists()


def _write_pngs(folder: Path, count: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(count):
        Image.fromarray(rng.integers(0, 255, (12, 10, 3), dtype=np.uint8)).save(folder / f"img{i}.png")


def test_empty_image_folder(capsys, tmp_path):
    (tmp_path / "imgs").mkdir()
    code, _, err = run(capsys, "train", "gan", "--data", f"folder:{tmp_path / 'imgs'}", "--out", tmp_path / "r")
    assert_one_sentence_error(code, err, "no readable images found")


def test_image_folder_of_only_corrupt_files(capsys, tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    (folder / "broken.png").write_bytes(b"not a png at all")
    code, _, err = run(capsys, "train", "gan", "--data", f"folder:{folder}", "--out", tmp_path / "r")
    warning, error = err.strip().splitlines()
    assert warning.startswith("gankit: warning: skipping 1 unreadable image file(s) in ")
    assert_one_sentence_error(code, error, "no readable images found")
    assert "1 unreadable" in error


def test_partly_corrupt_image_folder_skips_bad_files(capsys, tmp_path):
    folder = tmp_path / "imgs"
    _write_pngs(folder, 40)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8 truncated")
    (folder / "empty.png").write_bytes(b"")
    code, _, err = run(capsys, "train", "gan", "--data", f"folder:{folder}", "--steps", 2,
                       "--batch-size", 8, "--set", "data.image_size=8", "--out", tmp_path / "r", *TINY)
    assert code == 0, err
    # both bad files in one warning line, naming the first
    assert [line for line in err.splitlines() if "unreadable" in line] == [
        line for line in err.splitlines() if line.startswith("gankit: warning: skipping 2 unreadable image file(s) in ")
        and "(the first, broken.jpg: " in line]
    assert "gankit: warning: skipping 2 unreadable" in err
    with Image.open(tmp_path / "r" / "samples" / "latest.png") as image:
        assert image.mode == "RGB"


def test_out_dir_that_holds_a_run_is_refused(capsys, gan_run):
    before = snapshot(gan_run)
    code, _, err = run(capsys, "train", "gan", "--data", "ring8", "--steps", 2, "--out", gan_run)
    assert_one_sentence_error(code, err, "already exists and is not empty")
    assert snapshot(gan_run) == before


def test_resume_into_a_directory_that_is_not_a_run(capsys, tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    before = snapshot(tmp_path)
    code, _, err = run(capsys, "train", "--resume", tmp_path, "--steps", 5)
    assert_one_sentence_error(code, err, "is not a gankit run directory")
    assert snapshot(tmp_path) == before


def _copy_run(run_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    return copy


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_corrupt_checkpoint(capsys, gan_run, tmp_path, damage):
    run_dir = _copy_run(gan_run, tmp_path)
    latest = run_dir / "checkpoints" / "latest.pt"
    data = latest.read_bytes()
    latest.write_bytes({"truncate": data[: len(data) // 2], "garbage": b"\x00garbage" * 50, "empty": b""}[damage])
    before = snapshot(run_dir)
    for argv in (["train", "--resume", run_dir, "--steps", 20], ["sample", run_dir], ["eval", run_dir]):
        code, _, err = run(capsys, *argv)
        assert_one_sentence_error(code, err, "is damaged or not a gankit checkpoint")
    assert snapshot(run_dir) == before


def test_checkpoint_from_another_model(capsys, gan_run, dcgan_run, tmp_path):
    run_dir = _copy_run(gan_run, tmp_path)
    shutil.copy(dcgan_run / "checkpoints" / "latest.pt", run_dir / "checkpoints" / "latest.pt")
    before = snapshot(run_dir)
    for argv in (["train", "--resume", run_dir, "--steps", 20], ["sample", run_dir], ["eval", run_dir]):
        code, _, err = run(capsys, *argv)
        assert_one_sentence_error(code, err, "belongs to model 'dcgan', not 'gan'")
    assert snapshot(run_dir) == before


def test_checkpoint_with_other_network_shapes(capsys, gan_run, tmp_path):
    run_dir = _copy_run(gan_run, tmp_path)
    config = run_dir / "config.yaml"
    config.write_text(config.read_text().replace("width: 16", "width: 32"))
    before = snapshot(run_dir)
    for argv in (["train", "--resume", run_dir, "--steps", 20], ["sample", run_dir]):
        assert_one_sentence_error(*run(capsys, *argv)[::2], "does not")
    assert snapshot(run_dir) == before


def test_resume_with_finished_steps_is_refused(capsys, gan_run):
    before = snapshot(gan_run)
    code, _, err = run(capsys, "train", "--resume", gan_run, "--steps", 5)
    assert_one_sentence_error(code, err, "already at step 10")
    assert snapshot(gan_run) == before


def test_dcgan_on_points_is_refused(capsys, tmp_path):
    code, _, err = run(capsys, "train", "dcgan", "--data", "ring8", "--out", tmp_path / "r")
    assert_one_sentence_error(code, err, "dcgan cannot be built for ring8")
    assert not (tmp_path / "r").exists()


# --- settings the trainer decides and records -------------------------------------------------

def test_dcgan_on_mnist_resizes_to_a_size_its_nets_take(capsys, tmp_path, shared_data):
    code, _, err = run(capsys, "train", "dcgan", "--data", "mnist", "--data-root", shared_data, "--steps", 1,
                       "--out", tmp_path / "r", "--set", "options.width=8", "--set", "train.eval_samples=0", "-q")
    assert code == 0, err
    assert "resized to 32x32" in err and err.count("\n") == 1  # one note line
    config = yaml.safe_load((tmp_path / "r" / "config.yaml").read_text())
    assert config["data"]["image_size"] == 32
    with Image.open(tmp_path / "r" / "samples" / "latest.png") as image:
        assert image.size == (8 * 33 + 1, 8 * 33 + 1)  # 64 samples of 32x32


def test_conv_model_with_an_image_size_its_nets_cannot_take(capsys, tmp_path):
    code, _, err = run(capsys, "train", "dcgan", "--set", "data.image_size=30", "--out", tmp_path / "r")
    assert_one_sentence_error(code, err, "data.image_size=30 does not fit dcgan's networks")
    assert "the nearest sizes that do are 16 and 32" in err
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("native", [True, False])
def test_precision_auto_follows_the_hardware_and_is_recorded(capsys, tmp_path, monkeypatch, native):
    monkeypatch.setattr("gankit.train.trainer.bf16_native", lambda device: native)
    for data, expected in (("digits", "bf16" if native else "fp32"), ("ring8", "fp32")):
        model = "dcgan" if data == "digits" else "gan"
        code, _, err = run(capsys, "train", model, "--data", data, "--steps", 1, "--out", tmp_path / data, *TINY)
        assert code == 0 and err == "", err
        config = yaml.safe_load((tmp_path / data / "config.yaml").read_text())
        assert config["train"]["precision"] == expected


def test_explicit_bf16_without_native_support_warns_once(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr("gankit.train.trainer.bf16_native", lambda device: False)
    code, _, err = run(capsys, "train", "dcgan", "--data", "digits", "--precision", "bf16", "--steps", 1,
                       "--out", tmp_path / "r", *TINY)
    assert code == 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gankit: warning: ") and "emulated" in lines[0]
    assert yaml.safe_load((tmp_path / "r" / "config.yaml").read_text())["train"]["precision"] == "bf16"

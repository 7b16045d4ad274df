"""Image-folder runs keep a seeded share of the folder out of training, record it in RUN/holdout.txt,
evaluate against exactly those images (SWD and the memorisation check) and keep the split on resume."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gankit.cli import main
from gankit.data import draw_holdout, load_dataset
from gankit.train.run import HOLDOUT_FILE, NEAREST_PICTURE, read_run_config, run_data
from test_cli import TINY, assert_one_sentence_error, run


def write_folder(folder: Path, count: int, start: int = 0) -> None:
    """``count`` 16x16 colour PNGs in two subfolders (so held-out names are relative paths)."""
    rng = np.random.default_rng(start)
    for i in range(start, start + count):
        sub = folder / f"album{i % 2}"
        sub.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(sub / f"photo{i:02d}.png")


def train_args(folder: Path, out: Path, *extra) -> list:
    return ["train", "gan", "--data", f"folder:{folder}", "--steps", 2, "--batch-size", 8, "--set",
            "data.image_size=16", "--set", "train.eval_samples=40", "--out", out, *TINY, *extra]


@pytest.fixture(scope="module")
def folder_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("folder_run")
    write_folder(root / "photos", 30)
    assert main([str(a) for a in train_args(root / "photos", root / "run")]) == 0
    return root / "photos", root / "run"


def held_out(run_dir: Path) -> list[str]:
    return (run_dir / HOLDOUT_FILE).read_text().splitlines()


def test_holdout_is_recorded_seeded_and_disjoint_from_training(folder_run):
    photos, run_dir = folder_run
    names = held_out(run_dir)
    every = load_dataset(f"folder:{photos}", image_size=16)
    assert len(names) == 3 and names == sorted(names) and set(names) <= set(every.files)
    assert names[0].startswith("album")  # paths relative to the folder
    assert names == draw_holdout(every, 0.1, seed=0) != draw_holdout(every, 0.1, seed=1)
    config = read_run_config(run_dir)
    assert config.data.holdout == 0.1
    train, test = (run_data(config, split, run_dir=run_dir) for split in ("train", "test"))
    assert test.files == names and test.held_out and not train.held_out
    assert set(train.files) == set(every.files) - set(names)


def test_eval_scores_against_the_held_out_images_and_checks_memorisation(capsys, folder_run):
    _, run_dir = folder_run
    assert json.loads((run_dir / "eval.json").read_text())["metrics"]["real_images"] == 3  # end of training
    code, out, err = run(capsys, "eval", run_dir, "-n", 40, "--json", "--swd-projections", 32)
    assert code == 0, err
    metrics = json.loads(out)["metrics"]
    assert metrics["real_images"] == metrics["swd_images"] == 3
    assert {"swd_16", "swd", "memorisation_ratio", "memorisation_share"} <= set(metrics)
    assert (run_dir / NEAREST_PICTURE).is_file()
    code, _, err = run(capsys, "eval", run_dir, "--swd-images", 0)
    assert_one_sentence_error(code, err, "--swd-images, --swd-patches and --swd-projections must be at least 1")


def test_resume_keeps_the_split_when_the_folder_grows(capsys, folder_run, tmp_path):
    photos, run_dir = folder_run
    copy_photos, copy_run = tmp_path / "photos", tmp_path / "run"
    shutil.copytree(photos, copy_photos)
    shutil.copytree(run_dir, copy_run)
    write_folder(copy_photos, 10, start=30)
    code, _, err = run(capsys, "train", "--resume", copy_run, "--steps", 3, "--data-root", copy_photos, "-q")
    assert code == 0, err
    assert held_out(copy_run) == held_out(run_dir)
    train = run_data(read_run_config(copy_run), "train", str(copy_photos), copy_run)
    assert len(train) == 37 and not set(train.files) & set(held_out(run_dir))


def test_a_run_without_holdout_file_is_scored_against_its_whole_folder(capsys, folder_run, tmp_path):
    _, run_dir = folder_run
    old_run = tmp_path / "old"
    shutil.copytree(run_dir, old_run)
    (old_run / HOLDOUT_FILE).unlink()  # as runs trained before the split existed
    code, out, err = run(capsys, "eval", old_run, "-n", 40, "--json")
    assert code == 0, err
    metrics = json.loads(out)["metrics"]
    assert metrics["real_images"] == 30 and "memorisation_ratio" not in metrics


@pytest.mark.parametrize("fraction", [0, -0.1, 0.6, 1])
def test_holdout_outside_zero_to_half_is_one_sentence(capsys, tmp_path, fraction):
    code, _, err = run(capsys, *train_args(tmp_path / "photos", tmp_path / "r", "--set", f"data.holdout={fraction}"))
    assert_one_sentence_error(code, err, f"data.holdout must lie in (0, 0.5], not {float(fraction)}")
    assert not (tmp_path / "r").exists()


def test_folder_too_small_to_split_is_one_sentence(capsys, tmp_path):
    write_folder(tmp_path / "photos", 12)
    code, _, err = run(capsys, *train_args(tmp_path / "photos", tmp_path / "r"))
    assert_one_sentence_error(code, err, "holds 12 readable images")
    assert "at least 20" in err and not (tmp_path / "r").exists()

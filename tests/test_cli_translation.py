"""The translation family on the command line: the user's own folders end to end (train, sample,
eval, translate), and every bad input: one sentence on stderr, exit 2, nothing written."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from test_cli import assert_one_sentence_error, run, snapshot, write_images

from gankit.cli import main

TINY_CYCLEGAN = ["--set", "options.width=4", "--set", "options.blocks=1", "--set", "options.pool=4",
                 "--batch-size", "4", "--set", "train.eval_samples=6", "-q"]


def unpaired_folder(root: Path, mode_a: str = "L", mode_b: str = "RGB") -> Path:
    for split, count in (("train", 8), ("test", 6)):
        write_images(root / f"{split}A", count, (40, 40), mode_a, seed=1)
        write_images(root / f"{split}B", count, (32, 32), mode_b, seed=2)
    return root


@pytest.fixture(scope="module")
def cyclegan_run(tmp_path_factory):
    """cyclegan trained for 2 rounds on a trainA/trainB/testA/testB folder: grey A (40x40), colour B (32x32)."""
    root = tmp_path_factory.mktemp("data")
    folder = unpaired_folder(root / "greys2colours")
    run_dir = root / "run"
    assert main(["train", "cyclegan", "--data", f"unpaired:folder:{folder}", "--steps", "2",
                 "--set", "data.image_size=32", "--out", str(run_dir), *TINY_CYCLEGAN]) == 0
    return run_dir, folder


def test_translate_a_folder_both_ways(capsys, cyclegan_run, tmp_path):
    run_dir, folder = cyclegan_run
    code, out, _ = run(capsys, "translate", run_dir, "--input", folder / "testA", "--out", tmp_path / "b")
    assert code == 0 and "translated 6 images" in out
    written = sorted(p.name for p in (tmp_path / "b").iterdir())
    assert written == [f"img{i:02d}.png" for i in range(6)]
    with Image.open(tmp_path / "b" / "img00.png") as image:
        assert image.size == (32, 32) and image.mode == "RGB"  # A is grey, its translations are colour
    code, _, _ = run(capsys, "translate", run_dir, "--input", folder / "testB", "--out", tmp_path / "a",
                     "--direction", "b2a")
    with Image.open(tmp_path / "a" / "img03.png") as image:
        assert code == 0 and image.mode == "L"


def test_sample_and_eval_of_a_translation_run(capsys, cyclegan_run, tmp_path):
    run_dir, _ = cyclegan_run
    code, out, _ = run(capsys, "sample", run_dir, "-n", "4", "--out", tmp_path / "grid.png")
    assert code == 0 and "wrote 4 test inputs per direction" in out
    with Image.open(tmp_path / "grid.png") as grid:  # 4 rows (A, A->B, B, B->A) of 4 cells of 32 + padding
        assert grid.size == (4 * 33 + 1, 4 * 33 + 1)
    code, out, _ = run(capsys, "eval", run_dir, "-n", "6", "--json")
    assert code == 0 and '"a2b_cycle_l1"' in out and "ships no classifier" in out


def test_a_translation_run_resumes_with_its_image_pool(capsys, cyclegan_run, tmp_path):
    import shutil

    import torch

    run_dir = tmp_path / "run"
    shutil.copytree(cyclegan_run[0], run_dir)
    pooled = torch.load(run_dir / "checkpoints" / "latest.pt", weights_only=True)["model"]["pool_b._extra_state"]
    assert pooled.shape == (4, 3, 32, 32)  # full after 2 rounds of 4 fakes (capacity 4)
    code, _, _ = run(capsys, "train", "--resume", run_dir, "--steps", "3", "-q")
    assert code == 0


@pytest.mark.parametrize("flags,fragment", [(["--styles", "3"], "multimodal"),
                                             (["--target", "colour=red"], "stargan")])
def test_translate_options_of_other_models_are_refused(capsys, cyclegan_run, tmp_path, flags, fragment):
    run_dir, folder = cyclegan_run
    code, _, err = run(capsys, "translate", run_dir, "--input", folder / "testA", "--out", tmp_path / "o", *flags)
    assert_one_sentence_error(code, err, fragment)
    assert not (tmp_path / "o").exists()


def test_grey_images_given_to_a_colour_input_are_refused(capsys, cyclegan_run, tmp_path):
    run_dir, folder = cyclegan_run
    code, _, err = run(capsys, "translate", run_dir, "--input", folder / "testA", "--out", tmp_path / "o",
                       "--direction", "b2a")  # b2a reads colour images, and testA is grey
    assert_one_sentence_error(code, err, "are grey")
    assert not (tmp_path / "o").exists()


def test_translate_never_overwrites(capsys, cyclegan_run, tmp_path):
    run_dir, folder = cyclegan_run
    out = tmp_path / "o"
    out.mkdir()
    (out / "img02.png").write_bytes(b"mine")
    code, _, err = run(capsys, "translate", run_dir, "--input", folder / "testA", "--out", out)
    assert_one_sentence_error(code, err, "already exists")
    assert sorted(p.name for p in out.iterdir()) == ["img02.png"] and (out / "img02.png").read_bytes() == b"mine"


def ab_folder(root: Path, sizes: list[tuple[int, int]]) -> Path:
    for split in ("train", "test"):
        for i, size in enumerate(sizes):
            write_images(root / split, 1, size, "RGB", seed=i)
            (root / split / "img00.png").rename(root / split / f"pair{i}.png")
    return root


def test_pix2pix_on_a_side_by_side_folder(capsys, tmp_path):
    folder = ab_folder(tmp_path / "facades", [(64, 32)] * 4)
    run_dir = tmp_path / "run"
    code, out, _ = run(capsys, "train", "pix2pix", "--data", f"pairs:folder:{folder}", "--steps", "1",
                       "--batch-size", "2", "--out", run_dir, "--set", "options.width=4",
                       "--set", "train.eval_samples=4", "-q")
    assert code == 0 and "a2b_psnr" in out and "a2b_ssim" in out
    code, _, err = run(capsys, "translate", run_dir, "--input", folder / "test", "--out", tmp_path / "o",
                       "--direction", "b2a")
    assert_one_sentence_error(code, err, "A to B only")


@pytest.mark.parametrize("sizes,fragment", [([(65, 32)] * 2, "odd width"), ([(64, 32), (128, 64)], "must all have one size")])
def test_bad_side_by_side_folders_are_refused_before_anything_is_written(capsys, tmp_path, sizes, fragment):
    folder = ab_folder(tmp_path / "pairs", sizes)
    code, _, err = run(capsys, "train", "pix2pix", "--data", f"pairs:folder:{folder}", "--steps", "1",
                       "--out", tmp_path / "run")
    assert_one_sentence_error(code, err, fragment)
    assert not (tmp_path / "run").exists()


def test_train_a_without_train_b_is_refused(capsys, tmp_path):
    write_images(tmp_path / "horses" / "trainA", 2, (32, 32), "RGB")
    code, _, err = run(capsys, "train", "cyclegan", "--data", f"unpaired:folder:{tmp_path / 'horses'}",
                       "--steps", "1", "--out", tmp_path / "run")
    assert_one_sentence_error(code, err, "trainB")
    assert not (tmp_path / "run").exists()


def test_pixelda_source_only_run_is_scored_on_the_target_and_refuses_to_translate(capsys, tmp_path, shared_data):
    run_dir = tmp_path / "source-only"
    code, out, _ = run(capsys, "train", "pixelda", "--data", "unpaired:mnist>mnist-m", "--data-root", shared_data,
                       "--steps", "2",
                       "--batch-size", "8", "--set", "options.source_only=true", "--set", "train.eval_samples=0",
                       "--out", run_dir)
    assert code == 0 and "samples in" not in out and not (run_dir / "samples" / "latest.png").exists()
    code, out, _ = run(capsys, "eval", run_dir, "-n", "8", "--json")
    metrics = json.loads(out)["metrics"]
    # every MNIST-M test image of the unpaired view's B half (the odd indices), none of them translated
    assert metrics["target_images"] == 5000 and 0 <= metrics["target_accuracy"] <= 1
    assert not any(key.startswith("a2b") for key in metrics)
    before = snapshot(run_dir)
    code, _, err = run(capsys, "translate", run_dir, "--input", tmp_path, "--out", tmp_path / "out")
    assert_one_sentence_error(code, err, "translates nothing")
    assert snapshot(run_dir) == before and not (tmp_path / "out").exists()


def test_munit_translates_a_folder_in_several_styles(capsys, tmp_path):
    folder = unpaired_folder(tmp_path / "greys2colours")
    run_dir = tmp_path / "munit"
    assert main(["train", "munit", "--data", f"unpaired:folder:{folder}", "--steps", "1", "--batch-size", "4",
                 "--set", "data.image_size=32", "--set", "options.width=4", "--set", "options.blocks=1",
                 "--set", "options.mlp_dim=8", "--set", "train.eval_samples=0", "--out", str(run_dir), "-q"]) == 0
    code, out, _ = run(capsys, "translate", run_dir, "--input", folder / "testA", "--out", tmp_path / "b",
                       "--styles", "2")
    assert code == 0 and "translated 6 images in 2 styles each" in out
    written = sorted(p.name for p in (tmp_path / "b").iterdir())
    assert written == sorted(f"img{i:02d}_style{k}.png" for i in range(6) for k in range(2))
    styles = [np.asarray(Image.open(tmp_path / "b" / f"img00_style{k}.png"), dtype=float) for k in range(2)]
    assert np.abs(styles[0] - styles[1]).max() > 0  # two styles, two outputs
    code, _, err = run(capsys, "translate", run_dir, "--input", folder / "testA", "--out", tmp_path / "c",
                       "--styles", "0")
    assert_one_sentence_error(code, err, "--styles must be at least 1")
    code, out, _ = run(capsys, "sample", run_dir, "-n", "4", "--out", tmp_path / "grid.png")
    with Image.open(tmp_path / "grid.png") as grid:  # per direction: the inputs, then 3 rows of 3 styles
        assert code == 0 and grid.size == (4 * 33 + 1, 8 * 33 + 1)


def test_stargan_on_coloured_digits_end_to_end(capsys, tmp_path, shared_data):
    run_dir = tmp_path / "stargan"
    code, out, _ = run(capsys, "train", "stargan", "--data", "mnist-colour", "--data-root", shared_data,
                       "--steps", "1", "--batch-size", "4", "--set", "options.width=4", "--set", "options.blocks=1",
                       "--set", "options.n_critic=1", "--set", "train.eval_samples=20", "--out", run_dir, "-q")
    assert code == 0
    metrics = json.loads((run_dir / "eval.json").read_text())["metrics"]
    assert {"attribute_accuracy", "colour_accuracy", "background_accuracy", "label_kept", "fid",
            "recon_l1"} <= set(metrics) and metrics["images"] == 20
    assert 0 <= metrics["attribute_accuracy"] <= min(metrics["colour_accuracy"], metrics["background_accuracy"])
    folder = tmp_path / "mine"
    write_images(folder, 3, (40, 40), "RGB")
    code, out, _ = run(capsys, "translate", run_dir, "--input", folder, "--out", tmp_path / "blue",
                       "--target", "colour=blue", "--target", "background=white")
    assert code == 0 and "translated 3 images (colour=blue, background=white" in out
    with Image.open(tmp_path / "blue" / "img01.png") as image:
        assert image.size == (32, 32) and image.mode == "RGB"
    code, out, _ = run(capsys, "sample", run_dir, "-n", "3", "--out", tmp_path / "grid.png", "--data-root",
                       shared_data)
    with Image.open(tmp_path / "grid.png") as grid:  # the inputs, then a row per colour (5) and background (2)
        assert code == 0 and grid.size == (3 * 33 + 1, 8 * 33 + 1)
    before = snapshot(run_dir)
    for flags, fragment in ((["--target", "colour=purple"], "not a value of colour"),
                            (["--target", "size=3"], "no attribute 'size'"),
                            ([], "at least one --target")):
        code, _, err = run(capsys, "translate", run_dir, "--input", folder, "--out", tmp_path / "o", *flags)
        assert_one_sentence_error(code, err, fragment)
    assert snapshot(run_dir) == before and not (tmp_path / "o").exists()


def test_stargan_needs_data_with_attributes(capsys, tmp_path, shared_data):
    code, _, err = run(capsys, "train", "stargan", "--data", "mnist", "--data-root", shared_data, "--steps", "1",
                       "--out", tmp_path / "run")
    assert_one_sentence_error(code, err, "use mnist-colour")
    assert not (tmp_path / "run").exists()

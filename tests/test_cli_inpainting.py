"""The inpainting family on the command line: train on MNIST, sample, eval, and fill the holes of a folder of
the user's images; every bad input: one sentence on stderr, exit 2, nothing written."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from test_cli import assert_one_sentence_error, run, write_images

from gankit.cli import main
from gankit.data.images import read_images, square

TINY = ["--set", "options.width=4", "--set", "options.bottleneck=16", "--batch-size", "8", "-q"]


@pytest.fixture(scope="module")
def mnist_run(tmp_path_factory, shared_data):
    """context-encoder trained for 2 rounds on MNIST (28x28, so 32x32 for its nets), centre holes."""
    run_dir = tmp_path_factory.mktemp("runs") / "context-encoder"
    assert main(["train", "context-encoder", "--data", "mnist", "--data-root", str(shared_data), "--steps", "2",
                 "--set", "train.eval_samples=20", "--out", str(run_dir), *TINY]) == 0
    return run_dir


@pytest.fixture(scope="module")
def ccgan_run(tmp_path_factory, shared_data):
    """ccgan trained for 2 rounds on MNIST with 20 labels; its supervised-only baseline cut to 20 steps."""
    run_dir = tmp_path_factory.mktemp("runs") / "ccgan"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("gankit.metrics.tasks.BASELINE_STEPS", 20)
        assert main(["train", "ccgan", "--data", "mnist", "--data-root", str(shared_data), "--steps", "2",
                     "--set", "data.labels=20", "--set", "train.eval_samples=20", "--out", str(run_dir), *TINY]) == 0
    return run_dir


def test_list_shows_the_inpainting_family(capsys):
    code, out, _ = run(capsys, "list")
    assert code == 0 and "  inpainting\n    ccgan" in out and "    context-encoder" in out


def test_train_on_mnist_evaluates_the_holes(capsys, mnist_run):
    metrics = json.loads((mnist_run / "eval.json").read_text())["metrics"]
    assert metrics["images"] == 20 and {"hole_psnr", "hole_l1", "clean_accuracy", "inpainted_accuracy",
                                        "biharmonic_hole_psnr", "subset_hole_psnr"} <= set(metrics)
    with Image.open(mnist_run / "samples" / "latest.png") as picture:  # input / masked / filled rows of 8
        assert picture.size == (8 * 33 + 1, 3 * 33 + 1)
    code, out, _ = run(capsys, "eval", mnist_run, "-n", "30", "--json")
    assert code == 0 and json.loads(out)["metrics"]["biharmonic_images"] == 30


def test_ccgan_run_scores_its_holes_and_its_semi_supervised_classifier(capsys, ccgan_run, monkeypatch, tmp_path):
    metrics = json.loads((ccgan_run / "eval.json").read_text())["metrics"]
    assert {"hole_psnr", "inpainted_accuracy", "test_error", "baseline_test_error"} <= set(metrics)
    assert metrics["labels"] == 20 and 0 <= metrics["test_error"] <= 1
    monkeypatch.setattr("gankit.metrics.tasks.BASELINE_STEPS", 20)
    code, out, _ = run(capsys, "eval", ccgan_run, "-n", "30", "--json")
    assert code == 0 and json.loads(out)["metrics"]["images"] == 30
    code, out, _ = run(capsys, "sample", ccgan_run, "-n", "4", "--out", tmp_path / "grid.png")
    assert code == 0 and "rows: input, masked, filled" in out


def test_ccgan_refuses_fewer_labels_than_classes_in_one_sentence(capsys, tmp_path, shared_data):
    code, _, err = run(capsys, "train", "ccgan", "--data", "mnist", "--data-root", shared_data, "--steps", "1",
                       "--set", "data.labels=5", "--out", tmp_path / "run", *TINY)
    assert_one_sentence_error(code, err, "data.labels=5 is fewer than the 10 classes")  # no resize note first
    assert not (tmp_path / "run").exists()


def test_ccgan_refuses_a_folder_without_labels(capsys, tmp_path):
    write_images(tmp_path / "photos", 12, (16, 16), "L")
    code, _, err = run(capsys, "train", "ccgan", "--data", f"folder:{tmp_path / 'photos'}", "--steps", "1",
                       "--out", tmp_path / "run", *TINY)
    assert_one_sentence_error(code, err, "ccgan trains on class labels")
    assert not (tmp_path / "run").exists()


def test_a_run_resumes_with_its_data_mean(capsys, mnist_run, tmp_path):
    import shutil

    import torch

    run_dir = tmp_path / "run"
    shutil.copytree(mnist_run, run_dir)
    seen = torch.load(run_dir / "checkpoints" / "latest.pt", weights_only=True)["model"]["images_seen"]
    assert seen.item() == 2 * 2 * 8  # 2 rounds, a real batch of 8 in each player's step
    code, _, _ = run(capsys, "train", "--resume", run_dir, "--steps", "3", "-q")
    state = torch.load(run_dir / "checkpoints" / "latest.pt", weights_only=True)["model"]
    assert code == 0 and state["images_seen"].item() == 3 * 2 * 8 and -1 < state["mean"].item() < -0.6


def test_sample_draws_input_masked_filled_rows(capsys, mnist_run, tmp_path):
    code, out, _ = run(capsys, "sample", mnist_run, "-n", "4", "--out", tmp_path / "grid.png")
    assert code == 0 and "rows: input, masked, filled" in out
    with Image.open(tmp_path / "grid.png") as grid:
        assert grid.size == (4 * 33 + 1, 3 * 33 + 1)
    code, _, err = run(capsys, "sample", mnist_run, "--class", "3")
    assert_one_sentence_error(code, err, "inpaints")


def test_inpaint_a_folder_keeps_stems_and_context(capsys, mnist_run, tmp_path):
    write_images(tmp_path / "mine", 3, (40, 40), "L")
    code, out, _ = run(capsys, "inpaint", mnist_run, "--input", tmp_path / "mine", "--out", tmp_path / "filled")
    assert code == 0 and "filled center holes in 3 images (32x32" in out
    assert sorted(p.name for p in (tmp_path / "filled").iterdir()) == ["img00.png", "img01.png", "img02.png"]
    with Image.open(tmp_path / "filled" / "img01.png") as image:
        assert image.size == (32, 32) and image.mode == "L"
        filled = np.asarray(image)
    resized = square(read_images(tmp_path / "mine", "L")[1][1], 32)[0, 0].numpy()  # as gankit translate resizes
    outside = np.ones((32, 32), bool)
    outside[8:24, 8:24] = False  # the centre hole of a quarter of the image
    assert np.array_equal(filled[outside], resized[outside]) and not np.array_equal(filled, resized)
    code, out, _ = run(capsys, "inpaint", mnist_run, "--input", tmp_path / "mine", "--out", tmp_path / "strokes",
                       "--mask", "strokes", "--seed", "1")
    assert code == 0 and "filled strokes holes in 3 images" in out
    assert not np.array_equal(np.asarray(Image.open(tmp_path / "strokes" / "img01.png")), filled)


def test_inpaint_refuses_a_folder_without_readable_images(capsys, mnist_run, tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("no pictures here")
    code, _, err = run(capsys, "inpaint", mnist_run, "--input", tmp_path / "notes", "--out", tmp_path / "out")
    assert_one_sentence_error(code, err, "no readable images")
    assert not (tmp_path / "out").exists()


def test_inpaint_refuses_colour_images_for_a_grey_run(capsys, mnist_run, tmp_path):
    write_images(tmp_path / "photos", 2, (32, 32), "RGB")
    code, _, err = run(capsys, "inpaint", mnist_run, "--input", tmp_path / "photos", "--out", tmp_path / "out")
    assert_one_sentence_error(code, err, "is a colour image, and this run fills grey images")
    assert not (tmp_path / "out").exists()


def test_inpaint_never_overwrites(capsys, mnist_run, tmp_path):
    write_images(tmp_path / "mine", 2, (28, 28), "L")
    out = tmp_path / "out"
    out.mkdir()
    (out / "img01.png").write_bytes(b"mine")
    code, _, err = run(capsys, "inpaint", mnist_run, "--input", tmp_path / "mine", "--out", out)
    assert_one_sentence_error(code, err, "already exists")
    assert sorted(p.name for p in out.iterdir()) == ["img01.png"] and (out / "img01.png").read_bytes() == b"mine"
    (tmp_path / "mine" / "sub").mkdir()
    write_images(tmp_path / "mine" / "sub", 1, (28, 28), "L")  # sub/img00.png and img00.png: one output name
    code, _, err = run(capsys, "inpaint", mnist_run, "--input", tmp_path / "mine", "--out", tmp_path / "new")
    assert_one_sentence_error(code, err, "would be written twice")
    assert not (tmp_path / "new").exists()


def test_a_colour_folder_run_fills_colour_images_and_refuses_grey_ones(capsys, tmp_path):
    write_images(tmp_path / "photos", 20, (24, 24), "RGB")
    run_dir = tmp_path / "run"
    assert main(["train", "context-encoder", "--data", f"folder:{tmp_path / 'photos'}", "--steps", "1",
                 "--set", "data.image_size=16", "--set", "options.mask=block", "--set", "train.eval_samples=0",
                 "--out", str(run_dir), *TINY]) == 0
    code, _, _ = run(capsys, "inpaint", run_dir, "--input", tmp_path / "photos", "--out", tmp_path / "filled")
    with Image.open(tmp_path / "filled" / "img07.png") as image:
        assert code == 0 and image.size == (16, 16) and image.mode == "RGB"
    write_images(tmp_path / "greys", 2, (16, 16), "L")
    code, _, err = run(capsys, "inpaint", run_dir, "--input", tmp_path / "greys", "--out", tmp_path / "out")
    assert_one_sentence_error(code, err, "are grey, and this run fills colour images")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("setting,fragment", [("options.mask_size=1.5", "at least as large as the image"),
                                              ("options.stroke_width=1.2", "as wide as the image or wider"),
                                              ("train.ema_decay=0.99", "not offered for inpainting models")])
def test_bad_mask_sizes_and_ema_are_refused_before_a_run_is_written(capsys, tmp_path, setting, fragment):
    code, _, err = run(capsys, "train", "context-encoder", "--data", "digits", "--steps", "1", "--set", setting,
                       "--out", tmp_path / "run", *TINY)
    assert_one_sentence_error(code, err, fragment)
    assert not (tmp_path / "run").exists()

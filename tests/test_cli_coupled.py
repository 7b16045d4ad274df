"""The coupled family (cogan) on the command line: train on MNIST and its negatives, a picture of pairs from
one z, the pair scores; every bad input: one sentence on stderr, exit 2, nothing written."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from test_cli import assert_one_sentence_error, run, snapshot

from gankit.cli import main

TINY = ["--set", "options.width=4", "--set", "options.z_dim=8", "--batch-size", "8", "-q"]


@pytest.fixture(scope="module")
def cogan_run(tmp_path_factory, shared_data):
    """cogan trained for 2 rounds on MNIST and its negatives (28x28, so 32x32 for its nets)."""
    run_dir = tmp_path_factory.mktemp("runs") / "cogan"
    assert main(["train", "cogan", "--data", "pairs:mnist>mnist-negative", "--data-root", str(shared_data),
                 "--steps", "2", "--set", "train.eval_samples=200", "--out", str(run_dir), *TINY]) == 0
    return run_dir


def test_list_shows_the_coupled_family_and_the_negatives(capsys):
    code, out, _ = run(capsys, "list")
    assert code == 0 and "  coupled\n    cogan" in out and "  mnist-negative  " in out


def test_train_scores_pairs_and_pictures_a_row_per_domain(capsys, cogan_run):
    metrics = json.loads((cogan_run / "eval.json").read_text())["metrics"]
    assert metrics["pairs"] == 200 and {"pair_consistency", "chance_consistency", "a_fid", "b_fid"} <= set(metrics)
    assert 0 <= metrics["pair_consistency"] <= 1
    with Image.open(cogan_run / "samples" / "latest.png") as picture:  # 4 x (a digit row above a negative row)
        assert picture.size == (8 * 33 + 1, 8 * 33 + 1)
    code, out, _ = run(capsys, "eval", cogan_run, "-n", "100", "--json")
    assert code == 0 and json.loads(out)["metrics"]["pairs"] == 100 and (cogan_run / "eval_samples.png").is_file()


def test_sample_draws_each_z_in_both_domains(capsys, cogan_run, tmp_path):
    code, out, _ = run(capsys, "sample", cogan_run, "-n", "5", "--out", tmp_path / "pairs.png")
    assert code == 0 and "wrote 20 pairs" in out and "domain A above the same z in domain B" in out
    with Image.open(tmp_path / "pairs.png") as grid:
        assert grid.size == (5 * 33 + 1, 8 * 33 + 1)
        top, below = grid.crop((1, 1, 33, 33)), grid.crop((1, 34, 33, 66))  # one z: a digit above its negative
        assert np.asarray(top.convert("L")).mean() < np.asarray(below.convert("L")).mean()
    before = snapshot(cogan_run)
    code, _, err = run(capsys, "sample", cogan_run, "--class", "3")
    assert_one_sentence_error(code, err, "draws pairs from noise alone")
    assert snapshot(cogan_run) == before


@pytest.mark.parametrize("data,fragment", [("digits", "cogan couples two image domains, and digits is not two"),
                                           ("pairs:mnist>mnist-noise", "unknown domain 'mnist-noise'")])
def test_cogan_refuses_data_without_two_domains(capsys, tmp_path, shared_data, data, fragment):
    code, _, err = run(capsys, "train", "cogan", "--data", data, "--data-root", shared_data, "--steps", "1",
                       "--out", tmp_path / "run", *TINY)
    assert_one_sentence_error(code, err, fragment)
    assert not (tmp_path / "run").exists()

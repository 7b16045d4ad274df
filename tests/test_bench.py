"""The benchmark runner: suites expand into runs, finished runs are kept, tables are written."""
from __future__ import annotations

import json

import pytest

from gankit.bench import load_suite, run_suite
from gankit.bench.report import markdown, summarise
from gankit.errors import GankitError

SUITE = """
description: runner test
datasets: [ring8]
seeds: [0, 1]
train: {steps: 6, batch_size: 32, log_every: 3}
eval_samples: 300
models:
  small: {model: gan, options: {width: 8, z_dim: 4}}
"""


def test_suite_expands_and_validates(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(SUITE)
    suite, specs = load_suite(str(path), tmp_path / "out")
    assert [(s.row, s.dataset, s.seed) for s in specs] == [("small", "ring8", 0), ("small", "ring8", 1)]
    assert specs[1].tree["train"]["seed"] == 1 and specs[1].tree["options"]["width"] == 8
    path.write_text(SUITE.replace("width: 8", "widht: 8"))
    with pytest.raises(GankitError, match="options.widht"):
        load_suite(str(path), tmp_path / "out")


@pytest.mark.parametrize("name", ["toy2d", "images", "images16", "conditional", "translation", "translation-full", "encoders", "superres"])
def test_packaged_suites_resolve_every_run(name, tmp_path):
    suite, specs = load_suite(name, tmp_path)
    datasets = [(entry or {}).get("datasets", suite["datasets"]) for entry in suite["models"].values()]
    assert len(specs) == sum(map(len, datasets)) * len(suite["seeds"])
    assert all(spec.run_dir.is_relative_to(tmp_path / "runs") for spec in specs)


def test_a_row_can_name_its_own_datasets_and_run_folders_stay_plain(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(SUITE + "  paired: {model: pix2pix, datasets: ['pairs:mnist-edges>mnist'], options: {width: 4}}\n")
    _, specs = load_suite(str(path), tmp_path / "out")
    paired = [s for s in specs if s.row == "paired"]
    assert [s.dataset for s in paired] == ["pairs:mnist-edges>mnist"] * 2
    assert paired[0].run_dir == tmp_path / "out" / "runs" / "paired" / "pairs_mnist-edges-to-mnist" / "seed0"
    assert [s.dataset for s in specs if s.row == "small"] == ["ring8", "ring8"]


def test_unknown_packaged_suite():
    with pytest.raises(GankitError, match="unknown suite 'nope'"):
        load_suite("nope", None)


def test_half_finished_suite_resumes_without_redoing_finished_runs(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(SUITE)
    out = tmp_path / "out"
    first = run_suite(str(path), out, jobs=2, threads=1)
    assert len(first) == 2
    kept = out / "runs" / "small" / "ring8" / "seed0" / "result.json"
    redo = out / "runs" / "small" / "ring8" / "seed1" / "result.json"
    kept_mtime = kept.stat().st_mtime_ns
    redo.unlink()
    second = run_suite(str(path), out, jobs=1, threads=1)
    assert kept.stat().st_mtime_ns == kept_mtime
    assert redo.exists()
    assert {r["seed"] for r in second} == {0, 1}
    table = (out / "leaderboard.md").read_text()
    assert "| small | gan | 2 | 6 |" in table
    results = json.loads((out / "results.json").read_text())
    assert results["summary"][0]["seeds"] == 2
    # where the numbers were made: every run and the tables name the machine
    from gankit.machine import describe, summary

    assert all(run["machine"]["threads"] == 1 for run in results["runs"])
    assert [(m["summary"], m["runs"]) for m in results["machines"]] == [(summary(describe(threads=1)), 2)]
    assert f"Measured on: {summary(describe(threads=1))}." in table


def test_runs_of_an_edited_suite_are_refused_not_reused(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(SUITE.replace("seeds: [0, 1]", "seeds: [0]"))
    out = tmp_path / "out"
    run_suite(str(path), out, jobs=1, threads=1)
    result = out / "runs" / "small" / "ring8" / "seed0" / "result.json"
    before = result.read_bytes()
    path.write_text(SUITE.replace("seeds: [0, 1]", "seeds: [0]").replace("steps: 6", "steps: 7"))
    with pytest.raises(GankitError, match="other settings than suite row 'small'"):
        run_suite(str(path), out, jobs=1, threads=1)
    assert result.read_bytes() == before
    # where the data lives is not a setting of the run: a new root resumes the same runs
    moved = SUITE.replace("seeds: [0, 1]", "seeds: [0]").replace("eval_samples", "data: {root: x}\neval_samples")
    path.write_text(moved)
    assert len(run_suite(str(path), out, jobs=1, threads=1)) == 1
    assert result.read_bytes() == before


def test_summary_mean_and_sample_std():
    results = [{"row": "r", "model": "m", "dataset": "d", "steps": 1, "train_seconds": t,
                "metrics": {"a": a, "kl": kl}} for a, t, kl in [(1.0, 10, 0.5), (3.0, 20, None)]]
    (entry,) = summarise(results)
    assert entry["metrics"]["a"] == (2.0, pytest.approx(2 ** 0.5))
    assert entry["metrics"]["kl"] is None
    assert entry["train_seconds"] == (15.0, pytest.approx(50 ** 0.5))
    assert "| r | m | 2 | 1 | 2.00 ± 1.41 | n/a | 15 |" in markdown([entry])


def test_reference_row_scores_real_images(tmp_path):
    from gankit.bench.runner import REFERENCE_ROW, run_reference

    result = run_reference({"eval_samples": 600}, "digits", tmp_path)
    assert result["row"] == REFERENCE_ROW and result["eval_samples"] == 600
    # real digits against the digits set: near-perfect fidelity and diversity
    assert result["metrics"]["precision"] > 0.8 and result["metrics"]["coverage"] > 0.8
    assert result["metrics"]["fid"] < 1.0
    assert run_reference({"eval_samples": 600}, "digits", tmp_path) == result  # kept, not recomputed


def test_running_one_row_keeps_the_other_rows_in_the_tables(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(SUITE.replace("seeds: [0, 1]", "seeds: [0]") + "  other: {model: gan, options: {width: 4, z_dim: 4}}\n")
    out = tmp_path / "out"
    run_suite(str(path), out, jobs=1, threads=1)
    (out / "runs" / "other" / "ring8" / "seed0" / "result.json").unlink()
    rerun = run_suite(str(path), out, jobs=1, threads=1, only=["other"])
    assert {r["row"] for r in rerun} == {"small", "other"}
    table = (out / "leaderboard.md").read_text()
    assert "| small | gan |" in table and "| other | gan |" in table
    # a row whose settings changed since its run is left out of the tables until it is run again
    path.write_text(path.read_text().replace("width: 8", "width: 6"))
    assert {r["row"] for r in run_suite(str(path), out, jobs=1, threads=1, only=["other"])} == {"other"}


def test_rescore_evaluates_finished_runs_again_without_training_them(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(SUITE.replace("seeds: [0, 1]", "seeds: [0]"))
    out = tmp_path / "out"
    (first,) = run_suite(str(path), out, jobs=1, threads=1)
    run = out / "runs" / "small" / "ring8" / "seed0"
    checkpoints = {p: p.stat().st_mtime_ns for p in (run / "checkpoints").iterdir()}
    # a result scored by an older version of the metrics: rescoring replaces its numbers, not its training
    stale = {**first, "metrics": {"modes": -1.0}, "train_seconds": 123.0}
    (run / "result.json").write_text(json.dumps(stale))
    (again,) = run_suite(str(path), out, jobs=1, threads=1, rescore=True)
    assert again["metrics"] == first["metrics"]  # the same weights, scored the same seeded way
    assert again["train_seconds"] == 123.0 and again["steps"] == first["steps"] == 6
    assert {p: p.stat().st_mtime_ns for p in (run / "checkpoints").iterdir()} == checkpoints
    assert "-1.0" not in (out / "leaderboard.md").read_text()


def test_reference_row_of_an_image_folder_scores_its_training_part_against_its_held_out_part(tmp_path):
    from test_cli import write_images

    from gankit.bench.runner import run_reference

    write_images(tmp_path / "photos", 60, (16, 16), "L")
    result = run_reference({"eval_samples": 100}, f"folder:{tmp_path / 'photos'}", tmp_path / "out")
    # the default data.holdout keeps 10% out: 54 training images scored against the 6 held out,
    # not the whole folder against itself (which would score a perfect, meaningless 0)
    assert result["eval_samples"] == 54 and result["metrics"]["real_images"] == 6
    assert result["metrics"]["swd"] > 0


SR_SUITE = """
description: a GAN row that starts from its PSNR row
datasets: [photos]
seeds: [0]
data: {image_size: 16}
train: {steps: 2, batch_size: 2, log_every: 1, precision: fp32}
eval_samples: 1
models:
  psnr: {model: srresnet, options: {width: 4, blocks: 1}}
  gan: {model: srgan, starts_from: psnr, options: {width: 4, blocks: 1, d_width: 4}}
"""


def test_a_row_starts_from_the_same_seeds_run_of_an_earlier_row(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(SR_SUITE)
    out = tmp_path / "out"
    _, (psnr, gan) = load_suite(str(path), out)
    assert psnr.after is None and gan.after == psnr.run_dir
    assert gan.tree["options"]["pretrained"] == str(psnr.run_dir)
    results = run_suite(str(path), out, jobs=2, threads=1)  # the GAN run waits for its PSNR run
    assert {r["row"] for r in results} == {"psnr", "gan"}
    from gankit.train.run import read_run_config

    assert read_run_config(gan.run_dir).options.pretrained == str(psnr.run_dir.resolve())
    path.write_text(SR_SUITE.replace("starts_from: psnr", "starts_from: later"))
    with pytest.raises(GankitError, match="suite row 'gan' starts from 'later', which must be an earlier row"):
        load_suite(str(path), out)


def test_rows_reporting_other_metrics_get_their_own_table():
    def entry(row, metrics):
        return {"row": row, "model": row, "dataset": "d", "seeds": 1, "steps": 1, "train_seconds": (1.0, 0.0),
                "metrics": {k: (v, 0.0) for k, v in metrics.items()}}

    table = markdown([entry("a", {"fid": 1.0}), entry("b", {"psnr": 20.0, "fid": 2.0}), entry("c", {"fid": 3.0})])
    assert table.count("### d") == 1
    assert "| row | model | seeds | steps | fid | train s |\n|---|---|---|---|---|---|\n| a |" in table
    assert "| c | c | 1 | 1 | 3.00 ± 0.00 | 1 |" in table.split("| psnr |")[0]  # a and c share the first table
    assert "| b | b | 1 | 1 | 20.0 ± 0.0 | 2.00 ± 0.00 | 1 |" in table
    assert "| - |" not in table


def test_rescoring_keeps_the_wall_time_of_the_training_invocation(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(SUITE.replace("seeds: [0, 1]", "seeds: [0]"))
    out = tmp_path / "out"
    run_suite(str(path), out, jobs=1, threads=1)
    trained = json.loads((out / "results.json").read_text())["wall_seconds_last_invocation"]
    run_suite(str(path), out, jobs=1, threads=1, rescore=True)
    results = json.loads((out / "results.json").read_text())
    assert results["wall_seconds_last_invocation"] == trained and results["rescore_seconds_last_invocation"] > 0

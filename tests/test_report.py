"""``gankit report``: self-contained HTML pages for a run and a bench folder, rendered in headless
Chromium (Debian's ``chromium``; .ci/run installs it): the screenshot is not blank and the page logs
no console errors."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gankit.cli import main

from test_cli import TINY, assert_one_sentence_error, run, snapshot

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_browser = pytest.mark.skipif(
    CHROMIUM is None and os.environ.get("GANKIT_BROWSER_TESTS") != "required",
    reason="headless Chromium is not installed (apt-get install chromium)")


def render(page: Path, tmp_path: Path) -> tuple[np.ndarray, list[str]]:
    """(screenshot as an RGB array, the console messages the page logged) of ``page``."""
    assert CHROMIUM, "GANKIT_BROWSER_TESTS=required but no chromium on PATH"
    shot = tmp_path / f"{page.stem}.png"
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'chromium-profile'}", "--enable-logging=stderr", "--v=0",
         "--window-size=1200,1600", f"--screenshot={shot}", page.resolve().as_uri()],
        capture_output=True, text=True, timeout=120)
    assert shot.is_file(), result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]  # any console message
    with Image.open(shot) as image:
        return np.asarray(image.convert("RGB")), errors


def assert_self_contained(page: Path) -> str:
    text = page.read_text()
    assert text.startswith("<!DOCTYPE html>") and "</html>" in text
    assert "http://" not in text and "https://" not in text and "<script" not in text  # nothing to fetch or run
    return text


def assert_not_blank(pixels: np.ndarray) -> None:
    dark = (pixels.mean(2) < 128).mean()
    assert 0.005 < dark < 0.9, dark  # text and pictures on a light page
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50


@pytest.fixture(scope="module")
def image_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("runs") / "dcgan"
    assert main(["train", "dcgan", "--data", "digits", "--steps", "20", "--out", str(run_dir), *TINY,
                 "--set", "train.sample_every=10"]) == 0
    return run_dir


def test_run_page_has_settings_curves_samples_and_evaluation(capsys, image_run):
    code, out, err = run(capsys, "report", image_run)
    assert code == 0, err
    page = image_run / "report.html"
    assert f"wrote {page}" in out
    text = assert_self_contained(page)
    for part in ("Settings", "model: dcgan", "Machine", "Training curves", "Samples over training",
                 "step 0000010", "Evaluation (step 20", "fid"):
        assert part in text, part
    assert text.count("data:image/png;base64,") == 3  # the curves and the grids of steps 10 and 20


def test_bench_page_has_the_leaderboard_with_thumbnails_and_links(capsys, tmp_path):
    from gankit.bench import run_suite

    suite = tmp_path / "s.yaml"
    suite.write_text("description: report test\ndatasets: [digits]\nseeds: [0, 1]\n"
                     "train: {steps: 4, batch_size: 16, sample_every: 1000}\neval_samples: 200\n"
                     "models:\n  small: {model: dcgan, options: {width: 8, z_dim: 8}}\n")
    run_suite(str(suite), tmp_path / "bench", jobs=1, threads=1)
    code, _, err = run(capsys, "report", tmp_path / "bench")
    assert code == 0, err
    text = assert_self_contained(tmp_path / "bench" / "report.html")
    assert "<h2>digits</h2>" in text and "report test" in text and "Measured on:" in text
    assert 'href="runs/small/digits/seed0/"' in text and 'href="runs/small/digits/seed1/"' in text
    assert text.count('class="thumb"') == 1


@needs_browser
def test_pages_render_in_headless_chromium(capsys, image_run, tmp_path):
    from gankit.bench import run_suite

    assert main(["report", str(image_run), "--out", str(tmp_path / "run.html")]) == 0
    suite = tmp_path / "s.yaml"
    suite.write_text("datasets: [digits]\nseeds: [0]\ntrain: {steps: 2, batch_size: 16}\neval_samples: 100\n"
                     "models:\n  small: {model: dcgan, options: {width: 8, z_dim: 8}}\n")
    run_suite(str(suite), tmp_path / "bench", jobs=1, threads=1)
    assert main(["report", str(tmp_path / "bench"), "--out", str(tmp_path / "bench.html")]) == 0
    for page in (tmp_path / "run.html", tmp_path / "bench.html"):
        pixels, errors = render(page, tmp_path)
        assert_not_blank(pixels)
        assert errors == [], errors
    # the console check can fail: a page with a broken script is caught
    broken = tmp_path / "broken.html"
    broken.write_text("<!DOCTYPE html><html><body><p>x</p><script>notDefined();</script></body></html>")
    assert render(broken, tmp_path)[1]


def test_report_on_a_folder_that_is_neither_run_nor_bench(capsys, tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    before = snapshot(tmp_path)
    assert_one_sentence_error(*run(capsys, "report", tmp_path)[::2], "is neither a gankit run directory")
    assert snapshot(tmp_path) == before
    assert_one_sentence_error(*run(capsys, "report", tmp_path / "missing")[::2], "is not a folder")


def test_bench_page_finds_the_runs_of_a_two_domain_dataset(tmp_path):
    from gankit.report import bench_page

    run = tmp_path / "runs" / "cyc" / "unpaired_mnist-to-mnist-m" / "seed0"
    (run / "samples").mkdir(parents=True)
    Image.new("RGB", (4, 4)).save(run / "samples" / "latest.png")
    summary = [{"row": "cyc", "model": "cyclegan", "dataset": "unpaired:mnist>mnist-m", "seeds": 1, "steps": 2,
                "metrics": {"a2b_images": [5, 0], "a2b_label_kept": [0.5, 0.0]}, "train_seconds": [1, 0]}]
    runs = [{"row": "cyc", "dataset": "unpaired:mnist>mnist-m", "seed": 0}]
    (tmp_path / "results.json").write_text(json.dumps({"summary": summary, "runs": runs}))
    page = bench_page(tmp_path)
    assert 'href="runs/cyc/unpaired_mnist-to-mnist-m/seed0/"' in page and "data:image/png" in page
    assert "a2b_label_kept" in page and "a2b_images" not in page

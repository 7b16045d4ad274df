"""Suite loading, the per-run worker, and the parallel driver."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import yaml
from tqdm import tqdm

from gankit.errors import GankitError

SUITES_DIR = Path(__file__).parent / "suites"
SUITE_KEYS = {"description", "datasets", "seeds", "train", "data", "eval_samples", "models", "reference"}
REFERENCE_ROW = "train split (reference)"
# datasets: this row's own list; starts_from: an earlier row whose run of the same dataset and seed this
# row's model starts from (options.pretrained: super-resolution GAN stages after their PSNR stage)
ROW_KEYS = {"model", "options", "train", "data", "datasets", "starts_from"}
RESULT = "result.json"


@dataclass
class RunSpec:
    """One training run of a suite: a row of the table on one dataset with one seed."""

    row: str
    dataset: str
    seed: int
    tree: dict  # config tree {model, data, train, options}
    eval_samples: Optional[int]
    run_dir: Path = field(default=Path())
    rescore: bool = False  # evaluate a finished run again instead of skipping it
    after: Optional[Path] = None  # the run folder of another run that must finish first (starts_from)

    def to_json(self) -> str:
        return json.dumps({"row": self.row, "dataset": self.dataset, "seed": self.seed, "tree": self.tree,
                           "eval_samples": self.eval_samples, "run_dir": str(self.run_dir),
                           "rescore": self.rescore})


def suite_path(name_or_path: str) -> Path:
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return path
    packaged = SUITES_DIR / f"{name_or_path}.yaml"
    if not packaged.is_file():
        names = ", ".join(sorted(p.stem for p in SUITES_DIR.glob("*.yaml")))
        raise GankitError(f"unknown suite '{name_or_path}'; packaged suites: {names}, or give a YAML path.")
    return packaged


def load_suite(name_or_path: str, out: Path) -> tuple[dict, list[RunSpec]]:
    """Read a suite and expand it into run specs, checking every config up front."""
    from gankit.config import resolve
    from gankit.registry import get_model
    from gankit.train.run import dataset_slug

    path = suite_path(name_or_path)
    try:
        suite = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise GankitError(f"suite {path} could not be read ({error}).") from None
    if not isinstance(suite, dict) or not suite.get("models") or not suite.get("datasets"):
        raise GankitError(f"suite {path} needs 'datasets' and 'models'.")
    unknown = set(suite) - SUITE_KEYS
    if unknown:
        raise GankitError(f"unknown suite key(s) {', '.join(sorted(unknown))} in {path}.")
    specs, runs = [], {}  # runs: (row, dataset, seed) -> run folder, for starts_from
    for row, entry in suite["models"].items():
        entry = entry or {}
        if set(entry) - ROW_KEYS:
            raise GankitError(f"unknown key(s) {', '.join(sorted(set(entry) - ROW_KEYS))} in suite row '{row}'.")
        source = entry.get("starts_from")
        for dataset in entry.get("datasets", suite["datasets"]):
            for seed in suite.get("seeds", [0]):
                tree = {"model": entry.get("model", row),
                        "data": {**(suite.get("data") or {}), **(entry.get("data") or {}), "name": dataset},
                        "train": {**(suite.get("train") or {}), **(entry.get("train") or {}), "seed": seed,
                                  "eval_samples": 0},
                        "options": dict(entry.get("options") or {})}
                after = None
                if source is not None:
                    after = runs.get((source, dataset, seed))
                    if after is None:
                        raise GankitError(f"suite row '{row}' starts from '{source}', which must be an earlier row "
                                          f"with a run of {dataset}, seed {seed}.")
                    tree["options"]["pretrained"] = str(after)
                resolve(tree, get_model(tree["model"]).Options)  # fail now, not an hour in
                run_dir = out / "runs" / row / dataset_slug(dataset) / f"seed{seed}"
                runs[row, dataset, seed] = run_dir
                specs.append(RunSpec(row, dataset, seed, tree, suite.get("eval_samples"), run_dir, after=after))
    return suite, specs


def run_one(spec: RunSpec) -> dict:
    """Train (or resume) one run, evaluate it, and write its result.json. A finished run given with
    ``spec.rescore`` is only evaluated again, from its last checkpoint, keeping its training time."""
    from gankit.config import resolve
    from gankit.machine import describe
    from gankit.metrics import DEFAULT_EVAL_SAMPLES
    from gankit.registry import get_model
    from gankit.train.checkpoint import load_checkpoint
    from gankit.train.run import LATEST, read_run_config
    from gankit.train.trainer import Trainer

    config = resolve(spec.tree, get_model(spec.tree["model"]).Options)
    resuming = (spec.run_dir / LATEST).exists()
    if spec.run_dir.exists() and not resuming:
        shutil.rmtree(spec.run_dir)  # started but never checkpointed: nothing worth keeping
    if resuming and config.data.root is None and not os.environ.get("GANKIT_DATA"):
        config.data.root = read_run_config(spec.run_dir).data.root  # where the run found its data before
    trainer = Trainer(config, spec.run_dir)
    seconds_before = 0.0
    if resuming:
        trainer.load_state_dict(load_checkpoint(spec.run_dir / LATEST, config.model))
        partial = spec.run_dir / "train_seconds.json"
        seconds_before = json.loads(partial.read_text())["seconds"] if partial.exists() else 0.0
    if spec.rescore and (spec.run_dir / RESULT).exists():
        train_seconds = json.loads((spec.run_dir / RESULT).read_text())["train_seconds"]
    else:
        start = time.perf_counter()
        trainer.fit(progress=False)
        train_seconds = seconds_before + time.perf_counter() - start
        (spec.run_dir / "train_seconds.json").write_text(json.dumps({"seconds": train_seconds}))
    n = spec.eval_samples or DEFAULT_EVAL_SAMPLES[trainer.dataset.spec.kind]
    start = time.perf_counter()
    metrics = trainer.evaluate(n, plot=spec.run_dir / "eval_samples.png")
    result = {"row": spec.row, "model": config.model, "dataset": spec.dataset, "seed": spec.seed,
              "steps": trainer.step, "eval_samples": n, "metrics": metrics,
              "train_seconds": round(train_seconds, 2), "eval_seconds": round(time.perf_counter() - start, 2),
              "machine": describe()}
    (spec.run_dir / RESULT).write_text(json.dumps(result, indent=2) + "\n")
    return result


def run_reference(suite: dict, dataset: str, out: Path) -> dict:
    """Score real training images against the test split: the floor every model is measured from."""
    import torch

    from gankit.config import DataConfig, build_dataclass
    from gankit.data import draw_holdout, uint8_to_float
    from gankit.machine import describe
    from gankit.metrics import DEFAULT_EVAL_SAMPLES
    from gankit.metrics.images import image_metrics
    from gankit.train.run import HELD_OUT_FOLDERS, dataset_slug
    from gankit.train.trainer import load_data

    folder = out / "runs" / "reference" / dataset_slug(dataset)
    if (folder / RESULT).exists():
        return json.loads((folder / RESULT).read_text())
    data = build_dataclass(DataConfig, {**(suite.get("data") or {}), "name": dataset}, "data")
    train, test = load_data(data, "train"), load_data(data, "test")
    if isinstance(train, HELD_OUT_FOLDERS):  # an image folder: its seed-0 run's split, as the rows are scored
        held_out = draw_holdout(train, data.holdout, seed=0)
        train, test = train.part(held_out, held_out=False), train.part(held_out, held_out=True)
    n = min(suite.get("eval_samples") or DEFAULT_EVAL_SAMPLES["image"], len(train))
    start = time.perf_counter()
    pick = torch.randperm(len(train), generator=torch.Generator().manual_seed(0))[:n]
    metrics = image_metrics(None, uint8_to_float(train.images[pick]), test)
    result = {"row": REFERENCE_ROW, "model": "-", "dataset": dataset, "seed": 0, "steps": 0, "eval_samples": n,
              "metrics": metrics, "train_seconds": 0.0, "eval_seconds": round(time.perf_counter() - start, 2),
              "machine": describe()}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / RESULT).write_text(json.dumps(result, indent=2) + "\n")
    return result


# Where a run happens, not what it computes: a run may resume with another data root or device.
_SETTINGS_FREE_TO_DIFFER = {"data": ("root", "download"), "train": ("device",)}
# Values with which a suite leaves a setting to the trainer, which records its choice in the run.
_LEFT_TO_TRAINER = {("train", "precision"): "auto", ("data", "image_size"): None}


def _comparable(config) -> dict:
    from gankit.train.run import pin_data

    pin_data(config.data)  # a folder dataset's path as the run recorded it
    settings = config.to_dict()
    for section, keys in _SETTINGS_FREE_TO_DIFFER.items():
        for key in keys:
            settings[section].pop(key)
    return settings


def _is_stale(spec: RunSpec) -> bool:
    """Whether the run folder holds a run made with other settings than the suite asks for now."""
    from gankit.config import resolve
    from gankit.registry import get_model
    from gankit.train.run import LATEST, read_run_config

    if not (spec.run_dir / LATEST).exists():
        return False  # never checkpointed: run_one starts it afresh
    try:
        stored = _comparable(read_run_config(spec.run_dir))
    except GankitError:
        stored = None
    wanted = _comparable(resolve(spec.tree, get_model(spec.tree["model"]).Options))
    for (section, key), undecided in _LEFT_TO_TRAINER.items():
        if stored is not None and wanted[section][key] == undecided:
            wanted[section][key] = stored[section][key]
    return stored != wanted


def _refuse_stale_run(spec: RunSpec) -> None:
    """A run folder left by an earlier version of the suite must not pass for this one's."""
    if _is_stale(spec):
        raise GankitError(f"{spec.run_dir} holds a run with other settings than suite row '{spec.row}' "
                          f"asks for now; delete that folder or choose another --out.")


def _run_in_subprocess(spec: RunSpec, threads: int) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    spec.run_dir.mkdir(parents=True, exist_ok=True)
    log = spec.run_dir / "bench.log"
    with log.open("a") as handle:
        code = subprocess.call([sys.executable, "-m", "gankit.bench.worker", spec.to_json()],
                               stdout=handle, stderr=subprocess.STDOUT, env=env)
    if code != 0:
        raise GankitError(f"run {spec.row}/{spec.dataset}/seed{spec.seed} failed (exit {code}); see {log}.")
    return json.loads((spec.run_dir / RESULT).read_text())


def run_suite(name_or_path: str, out: Path, jobs: int = 1, threads: Optional[int] = None,
              only: Optional[list[str]] = None, rescore: bool = False) -> list[dict]:
    """Run every unfinished run of a suite, ``jobs`` at a time, then write the tables. With ``rescore``
    the finished runs (of the ``only`` rows) and the reference rows are evaluated again with the
    current metrics, without training them again."""
    from gankit.bench.report import write_reports
    from gankit.train.run import dataset_slug

    suite, every = load_suite(name_or_path, out)
    specs = [s for s in every if s.row in only] if only else every
    if only:
        if not specs:
            raise GankitError(f"no suite row is named {', '.join(only)}.")
    for spec in specs:
        _refuse_stale_run(spec)
    threads = threads or max(1, (os.cpu_count() or 1) // jobs)
    done = [s for s in specs if (s.run_dir / RESULT).exists()]
    if rescore:
        for spec in done:
            spec.rescore = True
        if suite.get("reference"):
            for dataset in suite["datasets"]:
                (out / "runs" / "reference" / dataset_slug(dataset) / RESULT).unlink(missing_ok=True)
    todo = [s for s in specs if rescore or s not in done]
    out.mkdir(parents=True, exist_ok=True)
    what = f"scoring {len(done)} again and running {len(todo) - len(done)}" if rescore else f"running {len(todo)}"
    print(f"{len(specs)} runs, {len(done)} already finished; {what} with {jobs} job(s) x "
          f"{threads} thread(s); results in {out}", flush=True)
    start = time.perf_counter()
    failures = []
    with tqdm(total=len(specs), initial=len(specs) - len(todo), unit="run", desc="bench") as bar, \
            ThreadPoolExecutor(max_workers=jobs) as pool:
        while todo:  # in waves: a run that starts from another one's waits for it
            ready = [s for s in todo if s.after not in {t.run_dir for t in todo}]
            for future in as_completed([pool.submit(_run_in_subprocess, s, threads) for s in ready]):
                try:
                    future.result()
                except GankitError as error:
                    failures.append(str(error))
                bar.update(1)
            todo = [s for s in todo if s not in ready]
            blocked = [s for s in todo if s.after is not None and not (s.after / RESULT).exists()]
            failures += [f"run {s.row}/{s.dataset}/seed{s.seed} did not start: the run it starts from, "
                         f"{s.after}, did not finish." for s in blocked]
            todo = [s for s in todo if s not in blocked]
    results = [run_reference(suite, dataset, out) for dataset in suite["datasets"]] if suite.get("reference") else []
    # The tables cover every finished run of the suite, not only the rows run now (--only), so that
    # re-running one row keeps the others; runs of other rows made with outdated settings are left out.
    results += [json.loads((s.run_dir / RESULT).read_text()) for s in every
                if (s.run_dir / RESULT).exists() and (s in specs or not _is_stale(s))]
    write_reports(suite, results, out, wall_seconds=time.perf_counter() - start, rescore=rescore)
    if failures:
        raise GankitError(f"{len(failures)} run(s) failed, the first: {failures[0]}")
    return results

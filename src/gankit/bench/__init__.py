"""``gankit bench``: run a suite of models x datasets x seeds and tabulate the results.

A suite is a YAML file (packaged ones live in ``gankit/bench/suites``)::

    description: one line
    datasets: [ring8, grid25]
    seeds: [0, 1, 2]
    train: {steps: 5000, batch_size: 256}   # TrainConfig keys shared by every run
    data: {}                                # DataConfig keys shared by every run
    eval_samples: 2500                      # default: 2,500 for 2-D data, 10,000 for images
    reference: true                         # images: also score real training images against the test split
    models:                                 # row name -> model (defaults to the row name) and overrides
      gan: {}
      best: {model: wgan-gp, options: {pack: 4}, train: {steps: 8000}}

Each run lives in OUT/runs/ROW/DATASET/seedS and ends with a result.json; a
suite started again skips finished runs and resumes interrupted ones.
"""
from gankit.bench.runner import load_suite, run_suite

__all__ = ["load_suite", "run_suite"]

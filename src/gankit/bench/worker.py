"""Entry point of one benchmark run in its own process: ``python -m gankit.bench.worker SPEC_JSON``."""
import json
import os
import sys
from pathlib import Path

import torch

from gankit.bench.runner import RunSpec, run_one

if __name__ == "__main__":
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    fields = json.loads(sys.argv[1])
    fields["run_dir"] = Path(fields["run_dir"])
    result = run_one(RunSpec(**fields))
    print(json.dumps(result["metrics"]))

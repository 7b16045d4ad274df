#!/usr/bin/env bash
# The one prepared GPU measurement of issue 13 (item 2), for whenever a device machine is lent:
#
#   PYTHONPATH=src bash benchmarks/gpu_check.sh        # from the repository root; OUT=DIR keeps the JSON
#
# It needs torch with CUDA and gankit's dependencies, no data (scikit-learn's digits, resized to 32x32)
# and no network. It prints the GPU, then DCGAN rounds/s and images/s at batch 64 and 1024 for the
# reference-style script's step and gankit's (fp32 / bf16, eager / train.compile with CUDA graphs), all
# in this one call so that they compare, then gankit's start-up times. Targets (issue 13): at batch 64,
# the best gankit setting >= 8x the reference step's rate; at batch 1024, >= 20x its images/s.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-$(mktemp -d)}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name())"
python benchmarks/gpu_step.py --device cuda --batch-sizes 64 1024 --rounds 300 --warmup 50 --json "$OUT/gpu_step.json"
OMP_NUM_THREADS=4 python benchmarks/startup.py --repeats 3
echo "rates written to $OUT/gpu_step.json"

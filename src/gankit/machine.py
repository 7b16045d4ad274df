"""Where a number was measured: the CPU (and the features that change its arithmetic), GPU, torch, threads.

CPU kernels differ between machines (AVX2, AVX-512, AVX512-BF16, AMX), and
they round differently, so a run is bit-reproducible only on the same kind of
machine. Every run folder and every benchmark result records this.
"""
from __future__ import annotations

import os
import platform
from functools import lru_cache
from typing import Optional

import torch

# /proc/cpuinfo flag -> the name we print. These change which kernels PyTorch picks.
CPU_FEATURES = {"avx2": "AVX2", "avx512f": "AVX-512", "avx512_bf16": "AVX512-BF16", "amx_bf16": "AMX-BF16"}


@lru_cache(maxsize=1)
def _cpuinfo() -> tuple[str, frozenset[str]]:
    """(model name, flags) of the first CPU in /proc/cpuinfo; ('', {}) where there is none."""
    model, flags = "", frozenset()
    try:
        text = open("/proc/cpuinfo").read()
    except OSError:
        return platform.processor(), flags
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and not model:
            model = value.strip()
        elif key == "flags" and not flags:
            flags = frozenset(value.split())
    return model or platform.processor(), flags


def cpu_bf16_native() -> bool:
    """Whether this CPU computes bf16 in hardware (AVX512-BF16 or AMX), so autocast to bf16 pays off."""
    checks = [getattr(torch.cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    if all(check is not None for check in checks):
        return any(check() for check in checks)
    flags = _cpuinfo()[1]
    return "avx512_bf16" in flags or "amx_bf16" in flags


def cuda_bf16_native(device: torch.device) -> bool:
    """bf16 tensor cores arrived with compute capability 8.0 (Ampere)."""
    return torch.cuda.get_device_capability(device) >= (8, 0)


def bf16_native(device: torch.device) -> bool:
    return cuda_bf16_native(device) if device.type == "cuda" else cpu_bf16_native()


def describe(threads: Optional[int] = None) -> dict:
    """The machine this process runs on, as plain JSON-able values."""
    model, flags = _cpuinfo()
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {"cpu": model or "unknown",
            "cpu_features": [name for flag, name in CPU_FEATURES.items() if flag in flags],
            "cpu_cores": os.cpu_count(),
            "gpu": gpu,
            "torch": torch.__version__,
            "threads": threads if threads is not None else torch.get_num_threads(),
            "python": platform.python_version()}


def summary(machine: Optional[dict]) -> str:
    """One line, e.g. 'AMD EPYC (AVX2, AVX-512, AVX512-BF16), 2 cores, 1 thread, torch 2.14.1, no GPU' (and
    ', 4 processes (torchrun)' for a session trained by several processes)."""
    if not machine:
        return "not recorded"
    features = f" ({', '.join(machine['cpu_features'])})" if machine.get("cpu_features") else ""
    threads, processes = machine.get("threads"), machine.get("processes", 1)
    return (f"{machine['cpu']}{features}, {machine.get('cpu_cores')} cores, {threads} thread"
            f"{'' if threads == 1 else 's'}, torch {machine.get('torch')}, "
            f"{machine['gpu'] if machine.get('gpu') else 'no GPU'}"
            + (f", {processes} processes (torchrun)" if processes > 1 else ""))

"""Targets: what `--target llvm|cuda` means for compiling and running a case."""

from __future__ import annotations

import os
from dataclasses import dataclass

TARGETS = ("llvm", "cuda")

# Without a GPU, CUDA code is still generated and compiled (NVRTC) for a fixed, current
# architecture, so the compile verdict is real and the same on every machine.
CUDA_COMPILE_ONLY_ARCH = "sm_90"


@dataclass(frozen=True)
class TargetSpec:
    name: str  # "llvm" | "cuda"
    tvm_target: dict  # the JSON form tvm.target.Target takes
    can_run: bool  # False: compile only, the run stage is `skip` with reason `no-gpu`


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def cuda_device_present() -> bool:
    """Whether a CUDA device can run kernels; asked of TVM's runtime, not of torch."""
    import tvm

    try:
        return bool(tvm.cuda(0).exist)
    except Exception:  # noqa: BLE001 - no driver at all is the same answer
        return False


def resolve(name: str) -> TargetSpec:
    if name == "llvm":
        return TargetSpec("llvm", {"kind": "llvm"}, True)
    if name == "cuda":
        if cuda_device_present():
            import tvm

            arch = "sm_" + tvm.cuda(0).compute_version.replace(".", "")
            return TargetSpec("cuda", {"kind": "cuda", "arch": arch}, True)
        return TargetSpec("cuda", {"kind": "cuda", "arch": CUDA_COMPILE_ONLY_ARCH}, False)
    raise ValueError(f"unknown target {name!r}; expected one of {', '.join(TARGETS)}")


def worker_threads(jobs: int) -> int:
    """Threads per worker so that `jobs` workers share the cores present without oversubscribing."""
    return max(1, available_cores() // max(1, jobs))

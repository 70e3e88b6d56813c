"""The `tuned` pipeline: MetaSchedule tuning of a case's IRModule before tvm.compile.

`--pipeline tuned` applies TVM's own `relax.get_pipeline("static_shape_tuning", ...)` to the
imported module, with a trial budget (`--trials`) and the tuning logs and database of each case
in `<out>/tuning/<case>/`, then compiles it as the default road does. It needs MetaSchedule's
Python dependencies (psutil, cloudpickle, xgboost: apache-tvm's `meta-schedule` and `popen-pool`
extras) and a working `tvm.ir.save_json`, which its database writes with; `preflight` checks
both once per worker, so a missing piece stops the run with one line instead of failing or
crashing every case.

Static shapes only: a dynamic-shape program is built with the default pipeline, and its
records say so (`pipeline: default`, `pipeline_note`).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

PIPELINES = ("default", "tuned")

# A small budget: enough to exercise tuning (search, build, measure, apply the database) on
# each kernel of a case on 2 cores; `--trials` raises it for a real tuning run.
DEFAULT_TRIALS = 8
# What one trial costs on a CPU (build and measure a candidate in MetaSchedule's worker
# processes); a case's time limit grows by this per trial.
SECONDS_PER_TRIAL = 15.0
# The fixed cost of a tuning run: importing MetaSchedule's tensor intrinsics (TVMScript parsing)
# and starting its builder and runner pools, whose processes import TVM. Measured: 490 s for
# aten.sin on a 2-core machine shared with other jobs (most of it waiting for a core).
TUNING_OVERHEAD_SECONDS = 600.0

_REQUIRED = ("psutil", "cloudpickle", "xgboost")
DYNAMIC_NOTE = "static_shape_tuning does not apply to a dynamic-shape program: built with the default pipeline"


class TuningUnavailable(Exception):
    """What the tuned pipeline lacks here, in one line."""


def case_limit(limit: float, trials: int) -> float:
    """The time limit of a case under the tuned pipeline: its own limit plus the tuning."""
    return limit + TUNING_OVERHEAD_SECONDS + SECONDS_PER_TRIAL * trials


def check_dependencies() -> None:
    """Raise TuningUnavailable when a Python package MetaSchedule needs is not installed."""
    missing = [name for name in _REQUIRED if importlib.util.find_spec(name) is None]
    if missing:
        raise TuningUnavailable(
            f"--pipeline tuned needs {', '.join(missing)} (pip install psutil cloudpickle xgboost)")


def preflight() -> None:
    """Raise TuningUnavailable when MetaSchedule cannot tune in this environment."""
    check_dependencies()
    import subprocess
    import sys

    # A tvm-ffi newer than the TVM wheel was built for crashes in save_json (the tuning database's
    # writer); in a child process, so the crash is a message, not a dead worker.
    probe = subprocess.run([sys.executable, "-c", "import tvm; tvm.ir.save_json(tvm.tirx.IntImm('int32', 1))"],
                           capture_output=True, text=True, timeout=300)
    if probe.returncode != 0:
        from importlib.metadata import version

        raise TuningUnavailable(
            f"--pipeline tuned: tvm.ir.save_json fails here (exit {probe.returncode}; apache-tvm "
            f"{version('apache-tvm')}, apache-tvm-ffi {version('apache-tvm-ffi')}): MetaSchedule's "
            "database cannot be written; apache-tvm-ffi 0.1.14.post0 works with apache-tvm 0.27.0.post1")


def tuning_target(target):
    """The target MetaSchedule tunes for: the build target with `num-cores` (which it requires)
    set to the threads a worker has."""
    import os

    import tvm

    config = dict(target.export())
    if config.get("kind") == "llvm" and "num-cores" not in config:
        config["num-cores"] = int(os.environ.get("HARNESS_THREADS", "1"))
    return tvm.target.Target(config)


def tune(mod, target, trials: int, work_dir: Path):
    """The module after TVM's static_shape_tuning pipeline (tuning logs and database in work_dir)."""
    from tvm import relax

    work_dir.mkdir(parents=True, exist_ok=True)
    pipeline = relax.get_pipeline("static_shape_tuning", target=tuning_target(target),
                                  total_trials=trials, work_dir=str(work_dir))
    return pipeline(mod)

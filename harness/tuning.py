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

import functools
import importlib
import importlib.util
import json
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


# The module MetaSchedule's default_build imports inside each build: TVMScript parsing of every
# tensor intrinsic, 92 s of one core on the 2-core machine (apache-tvm 0.27.0.post1).
_INTRINSICS = "tvm.s_tir.tensor_intrin"
# A run time no kernel takes: what MetaSchedule stores for a candidate that failed to build or run.
_FAILED_RUN_SECONDS = 1e9


def pipeline(target, trials: int, work_dir: Path, seed: int | None):
    """TVM's static_shape_tuning pipeline (relax.pipeline.static_shape_tuning_pipeline, without
    weight prepacking) with its tuning step's builder and seed chosen here.

    The pipeline's MetaScheduleTuneIRMod pass tunes through MetaSchedule's default LocalBuilder,
    which times each build from inside a fresh worker process (the pool is restarted for every
    batch) and whose default_build imports the tensor intrinsics there: on a 2-core machine that
    import alone passes the builder's 30 s limit, so every candidate fails with "LocalBuilder:
    Timeout" and nothing is tuned. A pool's initializer runs without a time limit, so the same
    import there leaves the 30 s to the build. The pass cannot be given a builder (it reaches
    Python through a global function that C++ caches on first use, so it cannot be swapped per
    case either), hence the same steps in Python, calling tune_relax itself, seeded."""
    import tvm
    from tvm import relax
    from tvm.relax import transform
    from tvm.s_tir.meta_schedule import relax_integration
    from tvm.s_tir.meta_schedule.builder import LocalBuilder

    tune_target = tuning_target(target)

    @tvm.transform.module_pass(opt_level=0, name="HarnessMetaScheduleTune")
    def tune_step(mod, _ctx):
        # Its constructor's sanity check starts a pool of its own with the initializer, only to look
        # up the build and export functions: given afterwards (build reads it per batch), the
        # initializer imports the intrinsics once per tuning batch, not once more up front.
        builder = LocalBuilder()
        builder.initializer = functools.partial(importlib.import_module, _INTRINSICS)
        relax_integration.tune_relax(mod, {}, tune_target, str(work_dir), trials, builder=builder, seed=seed)
        return mod

    @tvm.transform.module_pass(opt_level=0, name="HarnessStaticShapeTuning")
    def tuned(mod, _ctx):
        with tune_target:
            return tvm.transform.Sequential([
                transform.DecomposeOpsForInference(), transform.CanonicalizeBindings(), relax.get_pipeline("zero"),
                tune_step, transform.MetaScheduleApplyDatabase(str(work_dir))])(mod)

    return tuned


def tune(mod, target, trials: int, work_dir: Path, seed: int | None = None):
    """The module after the tuned pipeline (tuning logs and database in work_dir)."""
    work_dir.mkdir(parents=True, exist_ok=True)
    return pipeline(target, trials, work_dir, seed)(mod)


def measured(work_dir: Path) -> dict[str, int]:
    """What the tuning left in its database: tasks (workloads) and candidates that built and ran
    (`measured`) or did not (`failed`). A tuned case with nothing measured compiled TVM's default
    schedules: the record says so instead of claiming tuned kernels."""
    counts = {"tasks": 0, "measured": 0, "failed": 0}
    workloads, records = work_dir / "database_workload.json", work_dir / "database_tuning_record.json"
    if workloads.is_file():
        counts["tasks"] = sum(1 for line in workloads.read_text().splitlines() if line.strip())
    if records.is_file():
        for line in records.read_text().splitlines():
            if not line.strip():
                continue
            run_secs = json.loads(line)[1][1]
            ok = bool(run_secs) and all(float(t) < _FAILED_RUN_SECONDS for t in run_secs)
            counts["measured" if ok else "failed"] += 1
    return counts

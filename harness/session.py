"""A worker's TVM session: the imported TVM pieces, the target, and the run's build settings
(the pipeline, harness.tuning; which cases ship, harness.deploy), loaded once per process."""

from __future__ import annotations

import time
from pathlib import Path

from harness.case import Case
from harness.targets import TargetSpec


class Session:
    """The imported TVM pieces a process needs, loaded once, and the run's build settings:
    the road into TVM (harness.frontends), the pipeline (harness.tuning) and which cases ship
    (harness.deploy)."""

    def __init__(self, spec: TargetSpec, convert_map: dict | None = None, pipeline: str = "default",
                 trials: int = 0, out: Path | None = None, deploy_sample: float = 0.0, frontend: str = "export"):
        import tvm
        from tvm import relax

        self.tvm, self.relax, self.spec, self.convert_map = tvm, relax, spec, convert_map
        self.pipeline, self.trials, self.out = pipeline, trials, out
        self.frontend = frontend  # export, or a road of harness.frontends
        self.deploy = None
        if deploy_sample > 0 and out is not None:
            from harness.deploy import DEPLOY_DIR, DeployPlan

            self.deploy = DeployPlan(Path(out) / DEPLOY_DIR, deploy_sample)
        self.target = tvm.target.Target(spec.tvm_target)
        self.device = tvm.cuda(0) if spec.name == "cuda" else tvm.cpu(0)
        self.device_compiler = None
        if spec.name == "cuda":  # kernels compiled for real, with or without a GPU (harness.device_compile)
            from harness.device_compile import DeviceCompiler

            self.device_compiler = DeviceCompiler()
            self.device_compiler.check()
        if pipeline == "tuned":
            from harness.tuning import preflight

            preflight()

    def not_shipped(self, case: Case) -> dict:
        """The record's `deploy` for a passing case this run does not ship."""
        from harness.deploy import skipped

        return skipped(case, self.deploy.fraction if self.deploy else 0.0)

    def build(self, mod, record: dict, case: Case | None = None):
        """tvm.compile, after tuning under the tuned pipeline; on CUDA also the device compile,
        whose report goes to `device_compile`."""
        mod = self._pipeline(mod, record, case)
        if self.device_compiler is None:
            return self.tvm.compile(mod, target=self.target)
        from harness.device_compile import DeviceCompileError

        try:
            executable, record["device_compile"] = self.device_compiler.build(mod, self.target)
        except DeviceCompileError as exc:
            record["device_compile"] = exc.details
            raise
        return executable

    def _pipeline(self, mod, record: dict, case: Case | None):
        if self.pipeline != "tuned":
            return mod
        from harness import tuning
        from harness.case import safe_name

        if case is None or case.dynamic is not None:
            record["pipeline"], record["pipeline_note"] = "default", tuning.DYNAMIC_NOTE
            return mod
        work_dir = Path(self.out or ".") / "tuning" / safe_name(case.case_id)
        start = time.perf_counter()
        try:
            return tuning.tune(mod, self.target, self.trials, work_dir, seed=case.seed)
        finally:
            record["tuning"] = {"trials": self.trials, "work_dir": str(work_dir), "seed": case.seed,
                                "seconds": round(time.perf_counter() - start, 6), **tuning.measured(work_dir)}

"""The deploy stage: ship a case's built executable and run it in a fresh process.

After a static case passes in its worker, the executable is written with `export_library` to
`<out>/deploy/<case>.so`, its inputs beside it, and `python -m harness.deploy_check LIB INPUTS
OUT` runs it in a new Python process that never compiled anything (tvm.runtime.load_module,
relax.VirtualMachine). Its outputs are judged against the eager reference by the same judge as
the in-process run. Any failure (export, load, run, a dead process, different outputs) is
`deploy_error` at stage `deploy`. A passing case's files are removed; a failing one's stay, and
its record's `deploy.command` reruns the fresh process on them.

Which cases deploy (`--deploy-sample F`): every model case; a deterministic fraction F of op
cases (by a hash of the case id, so a rerun deploys the same ones); every case with a declared
`deploy_error` (else its pass would be an xpass whenever it is not drawn). `0` deploys nothing,
`1` every static case. Dynamic-shape programs are not deployed. A case drawn for deploy runs
alone, never in a batch (harness.pool), so its library is its own and so is its repro.

`HARNESS_DEPLOY_DOCTOR` is a test hook that damages the library between export and load:
`truncate` cuts it to half its size; `replace=PATH` puts the library at PATH in its place.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from harness import expect
from harness.case import Case
from harness.deploy_check import STEP_PREFIX
from harness.signature import one_line_error

DEPLOY_DIR = "deploy"
# Op cases drawn for deploy by default: each costs a fresh process that imports torch and TVM
# (seconds), so the quick suite ships a few dozen of its ~4000 op cases (measured: README).
DEFAULT_SAMPLE = 0.01
# The fresh process's own limit; a case drawn for deploy gets this much more time.
DEPLOY_SECONDS = 120.0
DOCTOR_ENV = "HARNESS_DEPLOY_DOCTOR"


class DeployFailure(Exception):
    """A step of shipping failed: the message names it (export_library, load, run, ...)."""


@dataclass(frozen=True)
class DeployPlan:
    directory: Path  # <out>/deploy
    fraction: float  # --deploy-sample


def drawn(case_id: str, fraction: float) -> bool:
    """Whether a case id falls in the first `fraction` of the hash space (stable across runs)."""
    digest = hashlib.sha256(case_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


def declared(case: Case, target: str) -> bool:
    """Whether the case declares a failure of the deploy stage on this target."""
    return any(e.status == "deploy_error" or e.stage == "deploy" for e in expect.applicable(case, target, None))


def selected(case: Case, fraction: float, target: str) -> bool:
    """Whether a case is deployed after it passes (see the module's docstring)."""
    if fraction <= 0 or case.dynamic is not None:
        return False
    return case.kind == "model" or declared(case, target) or drawn(case.case_id, fraction)


def skipped(case: Case, fraction: float) -> dict:
    """The record's `deploy` for a passing case that is not deployed."""
    if fraction <= 0:
        reason = "--deploy-sample 0"
    elif case.dynamic is not None:
        reason = "dynamic-shape program"
    else:
        reason = f"not drawn (--deploy-sample {fraction:g})"
    return {"ran": False, "reason": reason}


def _doctor(library: Path) -> None:
    how = os.environ.get(DOCTOR_ENV)
    if not how:
        return
    if how == "truncate":
        data = library.read_bytes()
        library.write_bytes(data[:len(data) // 2])
    elif how.startswith("replace="):
        library.write_bytes(Path(how.removeprefix("replace=")).read_bytes())
    else:
        raise DeployFailure(f"{DOCTOR_ENV}={how!r}: expected truncate or replace=PATH")


def _files(plan: DeployPlan, name: str) -> tuple[Path, Path, Path]:
    return (plan.directory / f"{name}.so", plan.directory / f"{name}.inputs.pt",
            plan.directory / f"{name}.outputs.pt")


def _signal_name(number: int) -> str:
    import signal

    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def command(plan: DeployPlan, name: str, device: str) -> list[str]:
    library, inputs, outputs = _files(plan, name)
    return [sys.executable, "-m", "harness.deploy_check", str(library), str(inputs), str(outputs),
            "--device", device]


def ship(executable, tensors: list, name: str, plan: DeployPlan, device: str, record: dict) -> list:
    """Export, load and run elsewhere; the deployed outputs (raises DeployFailure)."""
    import torch

    plan.directory.mkdir(parents=True, exist_ok=True)
    library, inputs, outputs = _files(plan, name)
    argv = command(plan, name, device)
    record["deploy"] = {"ran": True, "library": str(library), "command": shlex.join(argv), "seconds": None}
    start = time.perf_counter()
    try:
        executable.export_library(str(library))
    except Exception as exc:  # noqa: BLE001 - any export failure is the deploy verdict
        raise DeployFailure(f"export_library: {one_line_error(exc)}") from exc
    _doctor(library)
    torch.save([t.detach().cpu().contiguous() for t in tensors], inputs)
    outputs.unlink(missing_ok=True)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=DEPLOY_SECONDS, env=env)
    except subprocess.TimeoutExpired:
        raise DeployFailure(f"the fresh process gave no result within {DEPLOY_SECONDS:g}s") from None
    finally:
        record["deploy"]["seconds"] = round(time.perf_counter() - start, 6)
    if proc.returncode < 0:
        steps = [line.removeprefix(STEP_PREFIX) for line in proc.stderr.splitlines() if line.startswith(STEP_PREFIX)]
        raise DeployFailure(f"the fresh process died ({_signal_name(-proc.returncode)}) at "
                            f"{steps[-1] if steps else 'start-up'}")
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.splitlines() if line.strip() and not line.startswith(STEP_PREFIX)]
        raise DeployFailure(f"the fresh process failed (exit status {proc.returncode}): "
                            f"{lines[-1] if lines else 'no message'}")
    return torch.load(outputs, weights_only=True)


def clean(plan: DeployPlan, name: str, record: dict) -> None:
    """A passing case's files are not kept (a model's library holds its weights)."""
    for path in _files(plan, name):
        path.unlink(missing_ok=True)
    record["deploy"]["library"] = None

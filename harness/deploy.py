"""The deploy stage: ship a case's built executable and run it in another process.

A static case chosen to ship is compiled in its worker and its executable written with
`export_library` to `<out>/deploy/<case>.so`, its inputs beside it; a second Python process that
never compiles anything loads and runs it (tvm.runtime.load_module, relax.VirtualMachine): the
worker's `python -m harness.deploy_check --serve`, started at its first shipped case and kept, so
that its imports of torch and TVM (3 s) are paid once per worker, not per case. That run is the
case's run: its outputs are judged against the eager reference by the same judge, and a pass is
credited from it, so a model runs once, not twice (harness.stages). When it fails (export, load,
run, a dead or hung loader, different outputs), the worker runs the program itself: if that fails
too, the case's verdict is the worker's (run_error, mismatch, crash, timeout, as for a case that
does not ship); if it passes, the case is `deploy_error` at stage `deploy`. A loader that died or
hung is replaced for the next case, and one grown past LOADER_MAX_RSS_MB (libraries hold a
model's weights) is too. A passing case's files are removed; a deploy_error's stay, and its
record's `deploy.command` reruns them in a new process of their own
(`python -m harness.deploy_check LIB INPUTS OUT`).

Which cases deploy (`--deploy-sample F`): every model case; a deterministic fraction F of op
cases (by a hash of the case id, so a rerun deploys the same ones); every case with a declared
`deploy_error` (else its pass would be an xpass whenever it is not drawn). `0` deploys nothing,
`1` every static case. Dynamic-shape programs are not deployed. A case drawn for deploy runs
alone, never in a batch (harness.pool), so its library is its own and so is its repro.

`HARNESS_DEPLOY_DOCTOR` is a test hook that damages the library between export and load:
`truncate` cuts it to half its size; `replace=PATH` puts the library at PATH in its place;
`kill-once=PATH` makes the loader kill itself at the load step if PATH does not exist yet
(creating it first), so only the first loader dies.
"""

from __future__ import annotations

import hashlib
import json
import os
import selectors
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from harness import expect
from harness.case import Case
from harness.signature import one_line_error

DEPLOY_DIR = "deploy"
# Op cases drawn for deploy by default: each costs a fresh process that imports torch and TVM
# (seconds), so the quick suite ships a few dozen of its ~4000 op cases (measured: README).
DEFAULT_SAMPLE = 0.01
# The fresh process's limit: its start-up and load, plus its run of the program, which may take
# this many times the case's own limit (a model's run is minutes on 2 cores: vit_h_14's was 909 s
# beside another model, so a flat limit failed every large model).
DEPLOY_SECONDS = 120.0
RUN_FACTOR = 3.0

# What shipping usually adds to a case, on 2 cores (for the order in which cases are handed out).
EXPECTED_SECONDS = 3.0
DOCTOR_ENV = "HARNESS_DEPLOY_DOCTOR"
# A loader larger than this after a case is replaced before the next one.
LOADER_MAX_RSS_MB = 3000.0


def loader_limit(limit: float) -> float:
    """How long the loading process may take for a case whose own limit is `limit` seconds."""
    return DEPLOY_SECONDS + RUN_FACTOR * max(limit, 0.0)


def case_limit(limit: float) -> float:
    """A shipped case's time limit, from its own: the fresh process's share, and the run here
    that decides the verdict when the shipped run fails (harness.stages)."""
    return limit + loader_limit(limit)


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
    elif not how.startswith("kill-once="):  # the loader's own (harness.deploy_check)
        raise DeployFailure(f"{DOCTOR_ENV}={how!r}: expected truncate, replace=PATH or kill-once=PATH")


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


class _Loader:
    """The worker's `deploy_check --serve` process (see the module's docstring)."""

    def __init__(self):
        self.proc: subprocess.Popen | None = None
        self.buffer = b""

    def _start(self) -> subprocess.Popen:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        self.proc = subprocess.Popen([sys.executable, "-m", "harness.deploy_check", "--serve"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        self.buffer = b""
        return self.proc

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def _lines(self, deadline: float):
        """The loader's answer lines as they come; ends when it exits or the deadline passes. Its
        exit is watched too, not only the pipe's end: a process it started may still hold the pipe."""
        with selectors.DefaultSelector() as selector:
            selector.register(self.proc.stdout, selectors.EVENT_READ)
            while True:
                while b"\n" in self.buffer:
                    line, self.buffer = self.buffer.split(b"\n", 1)
                    yield line.decode("utf-8", "replace")
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                if not selector.select(timeout=min(left, 0.5)):
                    if self.proc.poll() is not None:
                        return
                    continue
                chunk = os.read(self.proc.stdout.fileno(), 1 << 16)
                if not chunk:
                    return
                self.buffer += chunk

    def run(self, library: Path, inputs: Path, outputs: Path, device: str, record: dict,
            limit: float = DEPLOY_SECONDS) -> None:
        """Load and run one library there within `limit` seconds (raises DeployFailure); the
        record's `deploy.loader` says which process did."""
        proc = self.proc if self.proc is not None and self.proc.poll() is None else self._start()
        record["deploy"]["loader"] = proc.pid
        request = {"library": str(library), "inputs": str(inputs), "out": str(outputs), "device": device}
        try:
            proc.stdin.write((json.dumps(request) + "\n").encode())
            proc.stdin.flush()
        except BrokenPipeError:
            self.stop()
            raise DeployFailure("the loading process exited before the case was sent") from None
        step = "start-up"
        for line in self._lines(time.monotonic() + limit):
            kind, _, rest = line.partition(" ")
            if kind == "step":
                step = rest
            elif kind == "done":
                if float(rest or 0) > LOADER_MAX_RSS_MB:
                    self.stop()
                return
            elif kind == "error":
                raise DeployFailure(f"the loading process failed: {rest}")
        try:
            # The pipe closes a moment before the dead process can be reaped: wait for it briefly.
            returncode = proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.stop()
            raise DeployFailure(f"the loading process gave no result within {limit:g}s (at {step})") from None
        self.proc = None
        how = _signal_name(-returncode) if returncode < 0 else f"exit status {returncode}"
        raise DeployFailure(f"the loading process died ({how}) at {step}")


_LOADER = _Loader()


def ship(executable, tensors: list, name: str, plan: DeployPlan, device: str, record: dict,
         limit: float = DEPLOY_SECONDS) -> list:
    """Export, load and run elsewhere within `limit` seconds; the deployed outputs (raises
    DeployFailure)."""
    import torch

    plan.directory.mkdir(parents=True, exist_ok=True)
    library, inputs, outputs = _files(plan, name)
    record["deploy"] = {"ran": True, "library": str(library), "command": shlex.join(command(plan, name, device)),
                        "seconds": None}
    start = time.perf_counter()
    try:
        try:
            executable.export_library(str(library))
        except Exception as exc:  # noqa: BLE001 - any export failure is the deploy verdict
            raise DeployFailure(f"export_library: {one_line_error(exc)}") from exc
        _doctor(library)
        torch.save([t.detach().cpu().contiguous() for t in tensors], inputs)
        outputs.unlink(missing_ok=True)
        _LOADER.run(library, inputs, outputs, device, record, limit)
    finally:
        record["deploy"]["seconds"] = round(time.perf_counter() - start, 6)
    return torch.load(outputs, weights_only=True)


def clean(plan: DeployPlan, name: str, record: dict) -> None:
    """A passing case's files are not kept (a model's library holds its weights)."""
    for path in _files(plan, name):
        path.unlink(missing_ok=True)
    record["deploy"]["library"] = None

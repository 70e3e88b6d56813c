"""Run shipped libraries in a process that compiles nothing.

    python -m harness.deploy_check LIB INPUTS OUT [--device llvm|cuda]
    python -m harness.deploy_check --serve

LIB is a relax executable written by `export_library`; INPUTS a `torch.save`d list of tensors
(main's arguments, in order). The library is loaded with `tvm.runtime.load_module`, run with
`relax.VirtualMachine`, and its outputs, flattened as the harness flattens them, are written
to OUT with `torch.save`. Nothing here compiles: this process sees only the file.

One library: exit status 0 when OUT was written; 1 when loading or running failed, with one
line on stderr naming the step; 2 for bad input (a missing file). Each step is announced on
stderr before it starts (`deploy_check step: load`), so a death in it is still placed.

`--serve` is how the harness ships cases: one such process per worker (started at its first
shipped case, its start-up of torch and TVM paid once) reads one JSON request per line on
stdin (`{"library", "inputs", "out", "device"}`) and answers on stdout with lines
`step load`, `step run`, then `done RSS_MB` or `error MESSAGE`. A library that kills it kills
only it: the harness reports the step it died in and starts another for the next case.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

STEP_PREFIX = "deploy_check step: "


def _step(name: str) -> str:
    """Announce a step on stderr first: if the process dies in it (a damaged library can kill
    the loader with SIGBUS), the parent's error still names the step."""
    print(f"{STEP_PREFIX}{name}", file=sys.stderr, flush=True)
    return name


def _doctor() -> None:
    """The test hook `HARNESS_DEPLOY_DOCTOR=kill-once=PATH` (harness.deploy)."""
    how = os.environ.get("HARNESS_DEPLOY_DOCTOR", "")
    if how.startswith("kill-once="):
        marker = Path(how.removeprefix("kill-once="))
        if not marker.exists():
            marker.touch()
            import signal

            os.kill(os.getpid(), signal.SIGKILL)


def run_library(library: Path, inputs: Path, out: Path, device_name: str, announce=_step) -> str | None:
    """Load, run and write the outputs; the one-line failure (None when OUT was written)."""
    import torch
    import tvm
    from tvm import relax

    from harness.transfer import device_inputs, tvm_outputs

    device = tvm.cuda(0) if device_name == "cuda" else tvm.cpu(0)
    step = announce("load")
    _doctor()
    try:
        module = tvm.runtime.load_module(str(library))
        step = announce("run")
        vm = relax.VirtualMachine(module, device)
        tensors = torch.load(inputs, weights_only=True)
        outputs = tvm_outputs(vm["main"](*device_inputs(tensors, device)))
    except Exception as exc:  # noqa: BLE001 - the parent reads the one line
        message = str(exc).strip().splitlines()
        return f"deploy_check: {step}: {type(exc).__name__}: {message[-1] if message else ''}"
    torch.save(outputs, out)
    return None


def serve() -> int:
    """Answer requests until stdin closes (see the module's docstring)."""
    from harness.memory import rss_mb
    from harness.worker import _die_with_parent

    _die_with_parent()
    channel = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # what torch or TVM print goes to stderr, not into the answers
    sys.stdout = sys.stderr

    def answer(line: str) -> str:
        channel.write(line + "\n")
        channel.flush()
        return line.split()[-1]

    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        error = run_library(Path(request["library"]), Path(request["inputs"]), Path(request["out"]),
                            request.get("device", "llvm"), lambda step: answer(f"step {step}"))
        answer(f"error {error}" if error else f"done {rss_mb():.0f}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["--serve"]:
        return serve()
    parser = argparse.ArgumentParser(prog="python -m harness.deploy_check", description=__doc__.splitlines()[0])
    parser.add_argument("library", type=Path)
    parser.add_argument("inputs", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--device", default="llvm", choices=("llvm", "cuda"))
    args = parser.parse_args(argv)
    for path in (args.library, args.inputs):
        if not path.is_file():
            print(f"deploy_check: error: {path}: no such file", file=sys.stderr)
            return 2
    error = run_library(args.library, args.inputs, args.out, args.device)
    if error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Run a shipped library in this fresh process: `python -m harness.deploy_check LIB INPUTS OUT`.

LIB is a relax executable written by `export_library`; INPUTS a `torch.save`d list of tensors
(main's arguments, in order). The library is loaded with `tvm.runtime.load_module`, run with
`relax.VirtualMachine`, and its outputs, flattened as the harness flattens them, are written
to OUT with `torch.save`. Nothing here compiles: this process sees only the file.

Exit status 0 when OUT was written; 1 when loading or running failed, with one line on stderr
naming the step; 2 for bad input (a missing file). Each step is announced on stderr before it
starts (`deploy_check step: load`), so a death in it is still placed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

STEP_PREFIX = "deploy_check step: "


def _step(name: str) -> str:
    """Announce a step on stderr first: if the process dies in it (a damaged library can kill
    the loader with SIGBUS), the parent's error still names the step."""
    print(f"{STEP_PREFIX}{name}", file=sys.stderr, flush=True)
    return name


def main(argv: list[str] | None = None) -> int:
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
    import torch
    import tvm
    from tvm import relax

    from harness.transfer import device_inputs, tvm_outputs

    device = tvm.cuda(0) if args.device == "cuda" else tvm.cpu(0)
    step = _step("load")
    try:
        library = tvm.runtime.load_module(str(args.library))
        step = _step("run")
        vm = relax.VirtualMachine(library, device)
        tensors = torch.load(args.inputs, weights_only=True)
        outputs = tvm_outputs(vm["main"](*device_inputs(tensors, device)))
    except Exception as exc:  # noqa: BLE001 - the parent reads the one line
        message = str(exc).strip().splitlines()
        print(f"deploy_check: {step}: {type(exc).__name__}: {message[-1] if message else ''}", file=sys.stderr)
        return 1
    torch.save(outputs, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A worker process: imports torch and TVM once, then runs cases one at a time.

Run as `python -m harness.worker TARGET [CONVERT_MAP] [--frontend NAME --pipeline P --trials N
--out DIR --deploy-sample F]` (harness.pool builds the line). Messages are length-prefixed
pickles: cases arrive on stdin; progress (the stage about to start, with the record so
far) and results leave on the original stdout, which is moved off fd 1 first so that
whatever torch or TVM print cannot corrupt the channel. If the process dies or hangs,
the parent (harness.pool) knows the last stage it announced.
"""

from __future__ import annotations

import os
import pickle
import struct
import sys
from typing import Any, BinaryIO

_HEADER = struct.Struct("<Q")


def send(stream: BinaryIO, message: Any) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def receive(stream: BinaryIO) -> Any:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError
    (size,) = _HEADER.unpack(header)
    return pickle.loads(stream.read(size))


def load_convert_map(spec: str | None) -> dict | None:
    """`MODULE:ATTR` -> the dict it names; a value of None removes that converter."""
    if not spec:
        return None
    import importlib

    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ValueError(f"--convert-map {spec!r}: expected MODULE:ATTR")
    try:
        table = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as err:
        raise ValueError(f"--convert-map {spec!r}: {err}") from None
    if not isinstance(table, dict) or not all(v is None or callable(v) for v in table.values()):
        raise ValueError(f"--convert-map {spec!r}: not a dict of op name -> converter (or None)")
    return table


def _die_with_parent() -> None:
    """A worker left behind by a killed run would hold a core forever (a hung case never ends)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _settings(argv: list[str]):
    import argparse
    from pathlib import Path

    parser = argparse.ArgumentParser(prog="python -m harness.worker")
    parser.add_argument("target")
    parser.add_argument("convert_map", nargs="?")
    parser.add_argument("--pipeline", default="default")
    parser.add_argument("--trials", type=int, default=0)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--deploy-sample", type=float, default=0.0)
    parser.add_argument("--frontend", default="export")
    return parser.parse_args(argv)


def _warm_up() -> None:
    """One tiny program through every stage before the worker says it is ready.

    A process's first torch.export costs about a second more than its next ones (dynamo's own
    start-up), and its first import and compile a few tenths more. Paid here, it overlaps the
    parent's building of the cases instead of lengthening the first case. No case's outcome
    depends on it: a failure here is logged and the cases meet the same code cold.
    """
    try:
        import numpy
        import torch
        import tvm
        from tvm import relax
        from tvm.relax.frontend.torch import from_exported_program

        class Twice(torch.nn.Module):
            def forward(self, x):
                return torch.ops.aten.add.Tensor(x, x)

        program = torch.export.export(Twice(), (torch.zeros(2),)).run_decompositions()
        vm = relax.VirtualMachine(tvm.compile(from_exported_program(program), target="llvm"), tvm.cpu())
        vm["main"](tvm.runtime.tensor(numpy.zeros(2, dtype="float32")))
    except Exception as err:  # noqa: BLE001 - a cold start is slower, not wrong
        print(f"warm-up failed (cases start cold): {type(err).__name__}: {err}", file=sys.stderr)


def main(argv: list[str]) -> int:
    _die_with_parent()
    channel = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    settings = _settings(argv)
    try:
        import torch

        torch.set_num_threads(int(os.environ.get("HARNESS_THREADS", "1")))
        from harness import cia_override, decompose_cache

        decompose_cache.install()
        cia_override.install()
        from harness import memory
        from harness.batch import run_batch
        from harness.stages import Session, run_case
        from harness.targets import resolve

        session = Session(resolve(settings.target), load_convert_map(settings.convert_map),
                          pipeline=settings.pipeline, trials=settings.trials, out=settings.out,
                          deploy_sample=settings.deploy_sample, frontend=settings.frontend)
    except Exception as err:  # noqa: BLE001 - reported to the parent as a fatal start-up error
        send(channel, {"type": "fatal", "error": f"{type(err).__name__}: {err}"})
        return 2
    _warm_up()
    from harness.env import tvm_fields

    send(channel, {"type": "ready", "pid": os.getpid(), "can_run": session.spec.can_run, "tvm": tvm_fields()})
    stdin = sys.stdin.buffer
    while True:
        try:
            message = receive(stdin)
        except EOFError:
            return 0

        def progress(stage: str, record: dict) -> None:
            send(channel, {"type": "progress", "stage": stage, "record": record})

        if message.get("op") == "batch":
            run_batch(message["members"], session, message["id"],
                      lambda index, records: send(channel, {"type": "member", "index": index, "records": records}),
                      progress)
            send(channel, {"type": "batch_done", "rss_mb": memory.rss_mb()})
            continue
        records = run_case(message["case"], session, message["base"], progress, message.get("limit"))
        send(channel, {"type": "done", "records": records, "rss_mb": memory.rss_mb()})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""What the harness costs: its run of N small op cases against a bare loop over the same stages.

    python -m harness.bench [--cases N]

Both sides run the same programs in the same process kind (a fresh Python that has
imported torch and TVM); the bare loop calls torch.export, run_decompositions,
from_exported_program, tvm.compile, the VM and torch.allclose directly, with no isolation,
records, expectations or repro scripts. Figures are ratios measured in one run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

UNARY = ["sin", "cos", "exp", "tanh", "abs", "neg", "sigmoid", "relu", "floor", "sqrt", "erf", "log1p"]
BINARY = ["add.Tensor", "mul.Tensor", "sub.Tensor", "maximum.default", "atan2.default"]


def programs(count: int) -> list[tuple[str, list]]:
    """`count` (op, args) pairs cycling over unary and binary ops with seeded inputs."""
    import torch

    gen = torch.Generator().manual_seed(0)
    chosen = []
    names = [f"aten.{u}.default" for u in UNARY] + [f"aten.{b}" for b in BINARY]
    for i in range(count):
        op = names[i % len(names)]
        x = torch.rand(8, 16, generator=gen) + 0.5
        args = [x] if op.split(".")[1] in UNARY else [x, torch.rand(8, 16, generator=gen) + 0.5]
        chosen.append((op, args))
    return chosen


def bare_loop(count: int) -> float:
    """Seconds per program for the plain stage calls, after one untimed warm-up program."""
    import torch
    import tvm
    from tvm import relax
    from tvm.relax.frontend.torch import from_exported_program

    from harness.programs import op_program

    start = 0.0
    for i, (op, args) in enumerate(programs(count + 1)):
        if i == 1:
            start = time.perf_counter()
        module, inputs = op_program(op, args)
        with torch.no_grad():
            expected = module(*inputs)
        ep = torch.export.export(module, inputs).run_decompositions()
        mod = from_exported_program(ep, run_ep_decomposition=False)
        vm = relax.VirtualMachine(tvm.compile(mod, target=tvm.target.Target({"kind": "llvm"})), tvm.cpu())
        actual = vm["main"](*[tvm.runtime.from_dlpack(t.contiguous()) for t in inputs])
        assert torch.allclose(torch.from_dlpack(actual[0]), expected, rtol=1e-4, atol=1e-5), op
    return (time.perf_counter() - start) / count


def harness_run(count: int) -> dict:
    """The harness on the same programs plus a warm-up one: per-case wall after the first result."""
    from harness.case import Case, Program
    from harness.programs import op_program
    from harness.runner import RunOptions, execute

    cases = [Case(f"{op}[bench-{i}]", "op", op, Program(op_program, {"op": op, "args": args}), "float32")
             for i, (op, args) in enumerate(programs(count + 1))]
    stamps: list[float] = []
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        records = execute(cases, RunOptions(out=Path(out), jobs=1),
                          lambda case, record: stamps.append(time.perf_counter()))
    steady = records[1:]  # the first case pays worker start-up and torch.export's warm-up
    stages = {stage: sum(r["seconds"].get(stage, 0.0) for r in steady) / count
              for stage in steady[0]["seconds"]}
    return {"per_case": (stamps[-1] - stamps[0]) / count, "first": stamps[0] - start,
            "statuses": sorted({r["status"] for r in records}), "stage_means": stages}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--bare", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.bare:
        print(json.dumps({"per_case": bare_loop(args.cases)}))
        return 0
    bare_runs, ours_runs = [], []
    for _ in range(args.rounds):  # alternate, so load from elsewhere hits both sides alike
        done = subprocess.run([sys.executable, "-m", "harness.bench", "--bare", "--cases", str(args.cases)],
                              check=True, capture_output=True, text=True)
        bare_runs.append(json.loads(done.stdout.strip().splitlines()[-1])["per_case"])
        ours_runs.append(harness_run(args.cases))
    bare = min(bare_runs)
    ours = min(ours_runs, key=lambda r: r["per_case"])
    print(f"{args.cases} cases x {args.rounds} rounds, llvm, one worker; statuses {ours['statuses']}")
    print("per-stage mean seconds of a typical case (in the worker, warm):")
    for stage, seconds in ours["stage_means"].items():
        print(f"  {stage:<10} {seconds:8.4f}")
    print(f"bare loop, per case:        {bare:.4f} s   (best of {[round(b, 4) for b in bare_runs]})")
    print(f"harness, per case:          {ours['per_case']:.4f} s   "
          f"(best of {[round(r['per_case'], 4) for r in ours_runs]}; isolation, records, fsync included)")
    print(f"ratio harness / bare:       {ours['per_case'] / bare:.3f}")
    print(f"harness fixed cost:         {ours['first']:.2f} s   (worker start, imports, first-case warm-up)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What the harness costs: its run of N small op cases against a bare loop over the same stages.

    python -m harness.bench [--cases N] [--batch 4 8 16 32]
    python -m harness.bench --decompositions ROUNDS
    python -m harness.bench --check OP [--rounds N]


The harness runs them unbatched and in batches of each size (harness.batch). Both sides run the same programs in the same process kind (a fresh Python that has
imported torch and TVM); the bare loop calls torch.export, run_decompositions,
from_exported_program, tvm.compile, the VM and torch.allclose directly, with no isolation,
records, expectations or repro scripts. Figures are ratios measured in one run.

`--decompositions` times `run_decompositions()` as the worker runs it (harness.decompose_cache
installed) with torch's CompositeImplicitAutograd override and with harness.cia_override's, one
call of each in turn in one process, and prints the medians and their ratio, of the process's
CPU seconds (what the call costs, which the machine's other load barely changes) and of wall
seconds.

`--check OP` times the whole `harness check OP` command as a user runs it, every worker started
cold against every worker forked by a warm server (`harness serve`, harness.forkserver),
alternating, and prints the medians and their ratio.
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


def harness_run(count: int, batch: int) -> dict:
    """The harness on the same programs, one worker, `batch` cases per program at most.

    Seconds per case come from the difference between a run of `count` programs and a run
    of one, so worker start-up and torch.export's first-call warm-up cancel out.
    """
    from harness.case import Case, Program
    from harness.programs import op_program
    from harness.runner import RunOptions, execute

    def timed(n: int) -> tuple[float, list[dict]]:
        cases = [Case(f"{op}[bench-{i}]", "op", op, Program(op_program, {"op": op, "args": args}), "float32")
                 for i, (op, args) in enumerate(programs(n))]
        with tempfile.TemporaryDirectory() as out:
            start = time.perf_counter()
            records = execute(cases, RunOptions(out=Path(out), jobs=1, batch=batch))
            return time.perf_counter() - start, records

    first, _ = timed(1)
    total, records = timed(count + 1)
    stages = {stage: sum(r["seconds"].get(stage, 0.0) for r in records) / len(records)
              for stage in records[-1]["seconds"]}
    return {"per_case": (total - first) / count, "first": first,
            "statuses": sorted({r["status"] for r in records}), "stage_means": stages,
            "batched": sum(1 for r in records if r.get("batch"))}


def decomposition_programs() -> dict:
    """A one-op program and a small layer whose CIA ops (linear, layer_norm, gelu, dropout) the
    override decomposes, exported once each."""
    import torch

    class Twice(torch.nn.Module):
        def forward(self, x):
            return torch.ops.aten.add.Tensor(x, x)

    class Layer(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear, self.norm = torch.nn.Linear(16, 16), torch.nn.LayerNorm(16)

        def forward(self, x):
            return torch.nn.functional.dropout(torch.nn.functional.gelu(self.norm(self.linear(x))), 0.1)

    return {"one op": torch.export.export(Twice(), (torch.zeros(2),)),
            "linear+layer_norm+gelu+dropout": torch.export.export(Layer(), (torch.randn(4, 16),))}


def decomposition_ratio(rounds: int) -> dict:
    """Median CPU and wall seconds of run_decompositions() per program with torch's override
    and with the harness's, alternating call by call (ABBA) after one untimed call of each, each
    call after a full garbage collection."""
    import gc
    import statistics

    from harness import cia_override, decompose_cache

    decompose_cache.install()
    found = {}
    for name, ep in decomposition_programs().items():
        times: dict[tuple[bool, str], list[float]] = {(f, c): [] for f in (False, True) for c in ("cpu", "wall")}
        for i in range(rounds + 1):
            for fast in (False, True) if i % 2 == 0 else (True, False):
                cia_override.install() if fast else cia_override.uninstall()
                gc.collect()  # the last call's garbage is not charged to this one
                cpu, wall = time.process_time(), time.perf_counter()
                ep.run_decompositions()
                if i:
                    times[fast, "cpu"].append(time.process_time() - cpu)
                    times[fast, "wall"].append(time.perf_counter() - wall)
        cia_override.uninstall()
        found[name] = {}
        for clock in ("cpu", "wall"):
            torch_s, fast_s = statistics.median(times[False, clock]), statistics.median(times[True, clock])
            pairs = zip(times[False, clock], times[True, clock], strict=True)
            found[name][clock] = {"torch": torch_s, "harness": fast_s, "ratio": fast_s / torch_s,
                                  "pairwise_ratio": statistics.median([f / t for t, f in pairs])}
    return found


def check_ratio(op: str, rounds: int) -> dict:
    """Wall seconds of `harness check OP` as a user runs it, with every worker started cold and
    forked by a warm server (harness.forkserver), alternating (ABBA) after one untimed run of
    each; the server's own start is timed once. The server is stopped afterwards unless one was
    already listening."""
    import os
    import statistics

    from harness import forkserver

    ours = forkserver.ping() is None
    began = time.perf_counter()
    forkserver.start()
    server_start = time.perf_counter() - began
    times: dict[bool, list[float]] = {False: [], True: []}
    try:
        with tempfile.TemporaryDirectory() as out:
            for i in range(rounds + 1):
                for warm in (False, True) if i % 2 == 0 else (True, False):
                    env = {**os.environ, "HARNESS_FORKSERVER": "1" if warm else "0"}
                    start = time.perf_counter()
                    subprocess.run([sys.executable, "-m", "harness", "check", op, "--out", str(Path(out) / "check")],
                                   env=env, check=False, capture_output=True)
                    if i:
                        times[warm].append(time.perf_counter() - start)
    finally:
        if ours:
            forkserver.stop()
    cold, warm = statistics.median(times[False]), statistics.median(times[True])
    pairs = zip(times[False], times[True], strict=True)
    return {"server_start": server_start, "cold": cold, "warm": warm, "ratio": warm / cold,
            "pairwise_ratio": statistics.median([w / c for c, w in pairs]), "times": times}


def main(argv: list[str] | None = None) -> int:
    from harness.pool import DEFAULT_BATCH

    parser = argparse.ArgumentParser(prog="python -m harness.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch", type=int, nargs="+", default=[DEFAULT_BATCH],
                        help="batch sizes to time beside unbatched runs (e.g. 4 8 16 32)")
    parser.add_argument("--bare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--decompositions", type=int, metavar="ROUNDS",
                        help="only time run_decompositions() with torch's CIA override against the harness's")
    parser.add_argument("--check", metavar="OP",
                        help="only time `harness check OP` with workers started cold and forked by a warm server")
    args = parser.parse_args(argv)
    if args.check is not None:
        found = check_ratio(args.check, args.rounds)
        print(f"harness check {args.check}, wall s (medians of {args.rounds}): cold {found['cold']:.2f}, "
              f"warm server {found['warm']:.2f}; ratio {found['ratio']:.3f}, median of pairwise ratios "
              f"{found['pairwise_ratio']:.3f}; the server's own start {found['server_start']:.2f}")
        print("  cold: " + " ".join(f"{t:.2f}" for t in found["times"][False]))
        print("  warm: " + " ".join(f"{t:.2f}" for t in found["times"][True]))
        return 0
    if args.decompositions is not None:
        if args.decompositions < 1:
            parser.error("--decompositions takes a number of rounds of at least 1")
        for name, clocks in decomposition_ratio(args.decompositions).items():
            for clock, found in clocks.items():
                print(f"run_decompositions, {name}, {clock} s: torch's override {found['torch']:.4f}, "
                      f"the harness's {found['harness']:.4f} (medians of {args.decompositions}); "
                      f"ratio {found['ratio']:.3f}, median of pairwise ratios {found['pairwise_ratio']:.3f}")
        return 0
    if args.bare:
        print(json.dumps({"per_case": bare_loop(args.cases)}))
        return 0
    sizes = [1] + [b for b in args.batch if b > 1]
    bare_runs: list[float] = []
    runs: dict[int, list[dict]] = {size: [] for size in sizes}
    for _ in range(args.rounds):  # alternate, so load from elsewhere hits every side alike
        done = subprocess.run([sys.executable, "-m", "harness.bench", "--bare", "--cases", str(args.cases)],
                              check=True, capture_output=True, text=True)
        bare_runs.append(json.loads(done.stdout.strip().splitlines()[-1])["per_case"])
        for size in sizes:
            runs[size].append(harness_run(args.cases, size))
    bare = min(bare_runs)
    best = {size: min(found, key=lambda r: r["per_case"]) for size, found in runs.items()}
    alone = best[1]
    print(f"{args.cases} cases x {args.rounds} rounds, llvm, one worker; statuses {alone['statuses']}")
    print("per-stage mean seconds of a case, unbatched (in the worker):")
    for stage, seconds in alone["stage_means"].items():
        print(f"  {stage:<10} {seconds:8.4f}")
    print(f"bare loop, per case:        {bare:.4f} s   (best of {[round(b, 4) for b in bare_runs]})")
    for size, found in best.items():
        label = "unbatched" if size == 1 else f"batch {size}"
        print(f"harness {label + ',':<19}{found['per_case']:.4f} s per case   "
              f"(best of {[round(r['per_case'], 4) for r in runs[size]]}; {found['batched']} credited "
              f"from batches)")
    print(f"ratio unbatched / bare:     {alone['per_case'] / bare:.3f}")
    for size in sizes[1:]:
        print(f"ratio batch {size} / bare:{' ' * (14 - len(str(size)))}{best[size]['per_case'] / bare:.3f}")
        print(f"ratio batch {size} / unbatched:{' ' * (9 - len(str(size)))}"
              f"{best[size]['per_case'] / alone['per_case']:.3f}")
    print(f"harness fixed cost:         {alone['first']:.2f} s   (a run of one case: worker start, imports, "
          "warm-up)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

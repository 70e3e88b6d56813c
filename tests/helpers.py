"""Small cases built directly on the engine, independent of the op suite's table."""

from __future__ import annotations

from pathlib import Path

import torch

from harness.case import Case, Expectation, Program
from harness.programs import op_program
from harness.runner import RunOptions, execute


def op_case(op: str, args, kwargs=None, dtype="float32", variant="0", **fields) -> Case:
    return Case(f"{op}[{dtype}-{variant}]", "op", op,
                Program(op_program, {"op": op, "args": list(args), "kwargs": kwargs or {}}), dtype, **fields)


def model_output(model, op: str, *args, **kwargs):
    """What a bug model (opsuite.expectations.bug_models) gives for `op` called on `args`."""
    module, inputs = op_case(op, args, kwargs).program.build()
    return model(module, inputs)


def sin_case(dtype=torch.float32, variant="0", **fields) -> Case:
    gen = torch.Generator().manual_seed(1)
    x = torch.rand(3, 4, generator=gen, dtype=torch.float64).mul(4).sub(2).to(dtype)
    return op_case("aten.sin.default", [x], dtype=str(dtype).removeprefix("torch."), variant=variant, **fields)


def add_case(variant="0", **fields) -> Case:
    gen = torch.Generator().manual_seed(2)
    return op_case("aten.add.Tensor", [torch.randn(2, 3, generator=gen), torch.randn(3, generator=gen)],
                   variant=variant, **fields)


class CatRelu(torch.nn.Module):
    def forward(self, x, y):
        return torch.cat([x, y], 0).relu()


def cat_program(n=4, **overrides):
    """CatRelu on (n, 3) and (2n, 3); `in0.n` / `in1.n` override n for one input (a broken relation)."""
    sizes = {"in0.n": n, "in1.n": n, **overrides}
    return CatRelu(), (torch.randn(sizes["in0.n"], 3), torch.randn(2 * sizes["in1.n"], 3))


def run(cases: list[Case], out: Path, convert_map: str | None = None, **options) -> dict[str, dict]:
    """Run cases through isolated workers; records by case id."""
    records = execute(cases, RunOptions(out=out, convert_map=convert_map, **{"jobs": 1, **options}))
    return {r["case_id"]: r for r in records}


def expect_status(status: str, **fields) -> Expectation:
    return Expectation(reason="known in this test", status=status, **fields)


# How a case ran, not what it gave: batch ids and sizes depend on which cases ran together.
VOLATILE = {"seconds", "peak_rss_mb", "repro", "short_repro", "stderr_tail", "batch"}


def stable(record: dict) -> dict:
    """A record without the fields that differ between two identical runs (timings, paths)."""
    return {k: v for k, v in record.items() if k not in VOLATILE}

"""Rows -> cases: hypothesis draws the examples, derandomised by the run's seed.

Profiles:
    quick    a few examples per row and dtype, plus one edge-tier example (CI runs this)
    nightly  many examples per row and dtype and an edge tier for every dtype; failures are
             then shrunk by opsuite.shrink to a minimal example

Empty tensors (a zero-size side) are drawn in the edge tier only: a pass on an empty output
proves little, so the normal tier's cases all carry values.

Same seed, same cases: each (row, dtype, tier) gets its own hypothesis seed derived from
the run seed and the row's id with a stable hash, never Python's randomised `hash()`.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.internal.conjecture import providers as _providers

from harness.case import Case, Program, Tolerance
from opsuite.draw.context import Call, Ctx
from opsuite.draw.shapes import degenerate_shapes
from opsuite.table.row import OpRow


@dataclass(frozen=True)
class Budget:
    first: int  # examples for the row's first dtype
    other: int  # examples for each other dtype
    edge: int  # edge-tier examples per dtype that gets an edge tier
    edge_all_dtypes: bool


PROFILES = {
    "quick": Budget(first=2, other=1, edge=1, edge_all_dtypes=False),
    "nightly": Budget(first=10, other=5, edge=3, edge_all_dtypes=True),
}


# Hypothesis mixes in constants it finds in every project module loaded so far (sys.modules),
# so the same seed drew different cases under `harness run`, pytest and a bare import. Cases
# must depend on the seed alone: hypothesis sees no local constants.
_NO_LOCAL_CONSTANTS = _providers.Constants()
_providers._get_local_constants = lambda: _NO_LOCAL_CONSTANTS


def stable_seed(*parts: object) -> int:
    return zlib.crc32("\x1f".join(map(str, parts)).encode()) & 0x7FFFFFFF


def collect(strategy, count: int, seed: int, skip_minimal: bool = False) -> list:
    """`count` examples of `strategy`, the same ones for the same seed, in the same order.

    Hypothesis's first example is the minimal one (rank-0 tensors, zero scalars); with
    `skip_minimal` it is dropped, so a budget of one example is not always the trivial case.
    """
    found: list = []
    wanted = count + (1 if skip_minimal else 0)

    @settings(max_examples=wanted, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck), derandomize=False)
    @hypothesis_seed(seed)
    @given(strategy)
    def gather(example):
        found.append(example)

    gather()
    return found[1:wanted] if skip_minimal else found[:count]


def row_id(row: OpRow) -> str:
    return f"{row.op}{'.' + row.label if row.label else ''}"


def variant_label(call: Call, tier: str) -> str:
    parts = ["edge" if tier == "edge" else "", "" if call.variant == "default" else call.variant]
    return "-".join(p for p in parts if p)


def case_from_call(row: OpRow, call: Call, dtype: str, index: int, seed: int, hypothesis_seed_: int,
                   tier: str) -> Case:
    variant = variant_label(call, tier)
    parts = [p for p in (row.label, dtype, variant, str(index)) if p]
    case_id = f"{row.op}[{'-'.join(parts)}]"
    tolerance: Tolerance | None = row.tolerances.get(dtype)
    return Case(
        case_id=case_id, kind="op", op=row.op,
        program=Program(row.factory, {"op": row.op, "args": list(call.args), "kwargs": dict(call.kwargs)}),
        dtype=dtype, seed=seed, tolerance=tolerance, decompose=row.decompose,
        nondeterministic=row.nondeterministic, check=row.check,
        meta={"variant": variant, "tier": tier, "row": row_id(row),
              "hypothesis": f"seed={hypothesis_seed_} example={index} (opsuite.generate.collect)"},
    )


def row_cases(row: OpRow, profile: str, seed: int) -> list[Case]:
    budget = PROFILES[profile]
    cases: list[Case] = []
    for position, dtype in enumerate(row.dtypes):
        tiers = [("normal", (row.examples or budget.first) if position == 0 else budget.other)]
        if row.edge and (budget.edge_all_dtypes or position == 0) and dtype != "bool":
            tiers.append(("edge", budget.edge))
        for tier, count in tiers:
            hseed = stable_seed(seed, row_id(row), dtype, tier)
            with degenerate_shapes(tier == "edge"):
                calls = collect(row.calls(Ctx(dtype, edge=tier == "edge")), count, hseed,
                                skip_minimal=position > 0 or tier == "edge")
            seen: dict[str, int] = {}
            for call in calls:
                variant = variant_label(call, tier)
                index = seen.get(variant, 0)
                seen[variant] = index + 1
                cases.append(case_from_call(row, call, dtype, index, stable_seed(hseed, variant, index),
                                            hseed, tier))
    return cases

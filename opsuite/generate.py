"""Rows -> cases: hypothesis draws the examples, derandomised by the run's seed.

Profiles:
    quick    a few examples per row and dtype, plus one edge-tier example (CI runs this)
    nightly  many examples per row and dtype and an edge tier for every dtype; failures are
             then shrunk by opsuite.shrink to a minimal example

Empty tensors (a zero-size side) are drawn in the edge tier only: a pass on an empty output
proves little, so the normal tier's cases all carry values. Nor does the normal tier keep a
call whose eager reference is degenerate (all zeros, all equal, all NaN: a comparison of two
one-element tensors, argmin of a single element, isnan of values without NaN): such a draw
is replaced by a fresh one (`informative`; the others keep their ids and draws), unless the
row says why it keeps them (`OpRow.degenerate`: zeros and full are constant by definition,
isnan of integers all False; hamming_window, which has no edge tier, draws its window lengths
0 and 1 on purpose). The edge tier keeps them for the row's first dtype (the only one with an
edge tier in the quick profile); the nightly's edge tiers of its other dtypes replace them as the
normal tier does, keeping a degenerate draw only where no fresh one avoids it.

Same seed, same cases: each (row, dtype, tier) gets its own hypothesis seed derived from
the run seed and the row's id with a stable hash, never Python's randomised `hash()`.
"""

from __future__ import annotations

import copy
import zlib
from dataclasses import dataclass

import torch
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import core as _hypothesis_core
from hypothesis import seed as hypothesis_seed
from hypothesis.internal import reflection as _reflection
from hypothesis.internal.conjecture import providers as _providers
from hypothesis.strategies._internal import core as _strategies_core

from harness.case import Case, Program, Tolerance
from harness.compare import degenerate_kind
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

def _once_per_code(compute):
    """`compute(f)`, worked out once for each code object: for the two hypothesis helpers below
    the answer depends on the function's code alone (and, for the digest, on its signature, which
    the one function digested here never changes)."""
    found: dict = {}

    def once(f):
        code = getattr(f, "__code__", None)
        if code is None:
            return compute(f)
        if code not in found:
            found[code] = compute(f)
        return found[code]

    return once


# st.composite parses its function's source on every decoration (to warn about a composite that
# never draws), and the rows decorate nested composites once per dtype: thousands of parses per
# nightly profile.
if hasattr(_strategies_core, "is_first_param_referenced_in_function"):
    _strategies_core.is_first_param_referenced_in_function = _once_per_code(
        _reflection.is_first_param_referenced_in_function)

# Every `collect` wraps the same function in @given, and hypothesis digests its source (for a
# database key this module never uses) on each run: about a tenth of drawing a plan.
_hypothesis_core.function_digest = _once_per_code(_hypothesis_core.function_digest)


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
    meta = {"variant": variant, "tier": tier, "row": row_id(row),
            "hypothesis": f"seed={hypothesis_seed_} example={index} (opsuite.generate.collect)"}
    if reason := row.degenerate_by_definition(dtype):
        # the reports count such a pass as proof: no draw of this op could give another reference
        meta["degenerate_by_definition"] = reason
    return Case(
        case_id=case_id, kind="op", op=row.op,
        program=Program(row.factory, {"op": row.op, "args": list(call.args), "kwargs": dict(call.kwargs)}),
        dtype=dtype, seed=seed, tolerance=tolerance, decompose=row.decompose,
        nondeterministic=row.nondeterministic, check=row.check,
        meta=meta,
    )


def _reference(row: OpRow, call: Call) -> list | None:
    """The eager outputs of `call` as tensors, or None when eager refuses it (the engine then
    records why). Run on copies and under a forked RNG: drawing never changes what it drew."""
    try:
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            # The CPU generator only (fork_rng(devices=[]) saves no other): torch.manual_seed
            # would also queue seeds for CUDA, XPU and MTIA, formatting a stack trace for each.
            torch.default_generator.manual_seed(0)
            module, inputs = Program(row.factory, {"op": row.op, "args": list(call.args),
                                                   "kwargs": dict(call.kwargs)}).build()
            leaves, _ = torch.utils._pytree.tree_flatten(module(*copy.deepcopy(inputs)))
    except Exception:  # noqa: BLE001 - eager's own refusal is the engine's to record
        return None
    return [torch.as_tensor(x) for x in leaves if isinstance(x, torch.Tensor | bool | int | float)]


def _one_answer(t: torch.Tensor) -> bool:
    """A bool output of several elements holding one truth value only: it tells a
    right mask from a wrong one no better than a constant does."""
    return t.dtype == torch.bool and t.numel() > 1 and bool(t.all() or not t.any())


def informative(row: OpRow, call: Call) -> bool:
    """Whether `call`'s eager reference can tell a right answer from a wrong one: it is not
    degenerate (harness.compare.degenerate_kind) and not every output is a one-answer mask;
    or eager refuses it; or it has no tensor."""
    outputs = _reference(row, call)
    return not outputs or (degenerate_kind(outputs) is None and not all(map(_one_answer, outputs)))


# Draws of replacements for degenerate calls: rounds of fresh examples, each round under a seed
# of its own, before a row is told its draws cannot avoid a degenerate reference.
REDRAW_ROUNDS = 8


def _informative_calls(row: OpRow, dtype: str, strategy, calls: list[Call], count: int, hseed: int,
                       tier: str = "normal") -> list[Call]:
    """`calls` without those whose reference is degenerate, topped up to `count` from fresh
    draws: a call that was informative keeps its place, so its case keeps its id and draw. An
    edge tier whose draws cannot avoid a degenerate reference keeps as many of its own as it lacks."""
    degenerate = []
    kept = []
    for call in calls:
        (kept if informative(row, call) else degenerate).append(call)
    for round_ in range(REDRAW_ROUNDS):
        if len(kept) >= count:
            break
        fresh = collect(strategy, 4 * (count - len(kept)), stable_seed(hseed, "redraw", round_), skip_minimal=True)
        kept.extend(c for c in fresh if informative(row, c))
    if len(kept) < count and tier == "edge":
        kept.extend(degenerate[:count - len(kept)])
    if len(kept) < count:
        raise ValueError(f"{row_id(row)} [{dtype}]: every draw of the normal tier gives a degenerate reference; "
                         "change its draws, or say why in the row's `degenerate`")
    return kept[:count]


def row_cases(row: OpRow, profile: str, seed: int) -> list[Case]:
    budget = PROFILES[profile]
    cases: list[Case] = []
    for position, dtype in enumerate(row.dtypes):
        tiers = [("normal", (row.examples or budget.first) if position == 0 else budget.other)]
        if row.edge and (budget.edge_all_dtypes or position == 0) and dtype != "bool":
            tiers.append(("edge", budget.edge))
        for tier, count in tiers:
            hseed = stable_seed(seed, row_id(row), dtype, tier)
            strategy = row.calls(Ctx(dtype, edge=tier == "edge"))
            with degenerate_shapes(tier == "edge"):
                calls = collect(strategy, count, hseed, skip_minimal=position > 0 or tier == "edge")
                # The edge tier's empty, constant and all-zero draws are the first dtype's; another
                # dtype's edge cases carry values (an empty tensor is empty whatever its dtype).
                if ((tier == "normal" or position > 0) and row.check is None
                        and not row.degenerate_by_definition(dtype)):
                    calls = _informative_calls(row, dtype, strategy, calls, count, hseed, tier)
            seen: dict[str, int] = {}
            for call in calls:
                variant = variant_label(call, tier)
                index = seen.get(variant, 0)
                seen[variant] = index + 1
                cases.append(case_from_call(row, call, dtype, index, stable_seed(hseed, variant, index),
                                            hseed, tier))
    return cases

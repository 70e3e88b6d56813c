"""The normal tier draws cases that carry values; empty tensors and one-element broadcast
operands (a constant copy, an all-or-nothing mask) are the edge tier's."""

import functools
import math

import pytest
import torch

from opsuite.draw import shapes as S
from opsuite.generate import collect, row_cases
from opsuite.table import rows

# Rows whose old normal-tier draws gave empty tensors (uniform sides, layer sides, movement
# shapes, concatenated parts, repeats, lengths, offsets, slice bounds, index shapes) or
# one-element broadcast operands (copy's src, masked_fill's mask).
ROWS = ("aten.sinh.default", "aten.mul.Tensor", "aten.sum.dim_IntList", "aten.cat.default",
        "aten.tile.default", "aten.repeat.default", "aten.narrow.default", "aten.diagonal.default",
        "aten.slice.Tensor", "aten.meshgrid.indexing", "aten.index_select.default", "aten.take.default",
        "aten.gather.default", "aten.copy.default", "aten.masked_fill.Scalar", "aten.masked_select.default")
SEEDS = range(3)


def _tensors(value):
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _tensors(item)


@functools.cache
def _cases(op):
    found = [row for row in rows() if row.op == op]
    assert found, f"no row for {op}"
    return tuple((case, seed) for seed in SEEDS for row in found for case in row_cases(row, "quick", seed))


@pytest.mark.parametrize("op", ROWS)
def test_the_normal_tier_draws_no_empty_tensor(op):
    normal = [(c, s) for c, s in _cases(op) if c.meta["tier"] == "normal"]
    assert normal
    empty = [f"{c.case_id} (seed {s})" for c, s in normal
             if any(t.numel() == 0 for t in _tensors(c.program.kwargs["args"]))]
    assert not empty, empty


@pytest.mark.parametrize("op", ("aten.copy.default", "aten.masked_fill.Scalar"))
def test_the_normal_tier_broadcasts_no_single_element_over_a_larger_tensor(op):
    constant = []
    for case, seed in _cases(op):
        if case.meta["tier"] != "normal":
            continue
        target, operand = case.program.kwargs["args"][:2]
        if operand.numel() == 1 < target.numel():
            constant.append(f"{case.case_id} (seed {seed})")
    assert not constant, constant


def test_the_edge_tier_keeps_empty_tensors():
    edge = [c for op in ROWS for c, _ in _cases(op) if c.meta["tier"] == "edge"]
    empty = [c for c in edge if any(t.numel() == 0 for t in _tensors(c.program.kwargs["args"]))]
    assert len(edge) > 20 and empty, (len(edge), len(empty))


def test_shapes_give_zero_sides_only_where_allowed():
    strategies = (S.element_shapes(), S.layer_shapes(1, 4), S.movement_shapes(1, 4), S.counts(0, 3).map(lambda n: (n,)))
    for strategy in strategies:
        allowed = collect(strategy, 300, seed=11)
        assert any(0 in shape for shape in allowed)
        with S.degenerate_shapes(False):
            refused = collect(strategy, 300, seed=11)
        assert not any(0 in shape for shape in refused)


def test_a_broadcast_operand_keeps_a_side_where_single_elements_are_not_allowed():
    target = (3, 1, 4)
    allowed = collect(S.broadcastable_to(target), 200, seed=5)
    assert any(math.prod(s) == 1 for s in allowed)
    with S.degenerate_shapes(False):
        refused = collect(S.broadcastable_to(target), 200, seed=5)
    assert all(math.prod(s) > 1 for s in refused)
    assert all(torch.broadcast_shapes(s, target) == target for s in refused)
    # a one-element target has nothing to keep
    with S.degenerate_shapes(False):
        assert all(math.prod(s) == 1 for s in collect(S.broadcastable_to((1, 1)), 20, seed=5))


def test_the_same_seed_gives_the_same_cases():
    row = next(r for r in rows() if r.op == "aten.cat.default")
    first = [c.case_id for c in row_cases(row, "quick", 3)]
    again = [c.case_id for c in row_cases(row, "quick", 3)]
    assert first == again
    a = [t for c in row_cases(row, "quick", 3) for t in _tensors(c.program.kwargs["args"])]
    b = [t for c in row_cases(row, "quick", 3) for t in _tensors(c.program.kwargs["args"])]
    assert len(a) == len(b) and all(x.shape == y.shape and torch.equal(x, y) for x, y in zip(a, b, strict=True))


# Rows whose normal tier drew references that prove little: comparisons of one-element
# operands or of operands that all compare alike, isnan of values without NaN, argmin of ties
# or of one element, logical and bitwise ops giving one answer, masks of one value.
INFORMATIVE = ("aten.lt.Tensor", "aten.ge.Scalar", "aten.ne.Tensor", "aten.isnan.default", "aten.isfinite.default",
               "aten.argmin.default", "aten.argsort.default", "aten.logical_and.default", "aten.bitwise_and.Tensor",
               "aten.__or__.Scalar", "aten.triu.default", "aten.scatter.value", "aten.masked_fill.Scalar",
               "aten.masked_select.default", "aten.bucketize.Tensor", "aten.isin.Tensor_Tensor",
               "aten.broadcast_to.default", "aten.relu.default", "aten.clamp_min.default")


def _reference(case):
    module, inputs = case.program.build()
    with torch.no_grad():
        leaves, _ = torch.utils._pytree.tree_flatten(module(*inputs))
    return [torch.as_tensor(x) for x in leaves if isinstance(x, torch.Tensor | bool | int | float)]


@pytest.mark.parametrize("op", INFORMATIVE)
def test_the_normal_tier_draws_references_that_are_not_degenerate(op):
    from harness.compare import degenerate_kind

    found = [row for row in rows() if row.op == op]
    weak = []
    for case, seed in _cases(op):
        row = next(r for r in found if r.label == case.meta["row"].removeprefix(op).removeprefix("."))
        if case.meta["tier"] != "normal" or row.degenerate_by_definition(case.dtype):
            continue
        outputs = _reference(case)
        one_answer = all(t.dtype == torch.bool and t.numel() > 1 and bool(t.all() or not t.any()) for t in outputs)
        if degenerate_kind(outputs) is not None or one_answer:
            weak.append(f"{case.case_id} (seed {seed})")
    assert not weak, weak


def test_rows_keep_degenerate_references_only_by_definition():
    keeping = {row.op for row in rows() if row.degenerate}
    assert {"aten.zeros.default", "aten.full.default", "aten.fill_.Scalar", "aten.isnan.default"} <= keeping
    assert not keeping & set(INFORMATIVE) - {"aten.isnan.default", "aten.isfinite.default"}
    isnan = next(row for row in rows() if row.op == "aten.isnan.default")
    assert not isnan.degenerate_by_definition("float32") and isnan.degenerate_by_definition("int32")


def test_a_case_carries_why_its_reference_is_degenerate_by_definition():
    isnan = next(row for row in rows() if row.op == "aten.isnan.default")
    cases = row_cases(isnan, "quick", 0)
    told = {c.dtype: c.meta.get("degenerate_by_definition") for c in cases}
    assert told["int32"] == isnan.degenerate["int32"] and told["float32"] is None


# Rows whose nightly edge tiers of later dtypes drew empty, all-zero or constant references.
NIGHTLY_EDGE = ("aten.sinh.default", "aten.sum.dim_IntList", "aten.cat.default", "aten.abs.default")


@pytest.mark.parametrize("op", NIGHTLY_EDGE)
def test_the_nightly_edge_tiers_of_later_dtypes_draw_references_that_are_not_degenerate(op):
    """The first dtype's edge tier keeps its empty tensors (test_the_edge_tier_keeps_empty_tensors:
    the quick profile's only edge tier is the first dtype's)."""
    from harness.compare import degenerate_kind

    (row,) = [row for row in rows() if row.op == op]
    edge = [c for c in row_cases(row, "nightly", 0) if c.meta["tier"] == "edge"]
    first = [c for c in edge if c.dtype == row.dtypes[0]]
    later = [c for c in edge if c.dtype != row.dtypes[0]]
    assert first and len(later) == 3 * len([d for d in row.dtypes[1:] if d != "bool"])  # bool has no edge tier
    weak = [c.case_id for c in later if degenerate_kind(_reference(c)) is not None]
    assert not weak, weak

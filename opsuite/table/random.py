"""Random ops: samplers compared by shape, dtype and a statistical property, never by value.

Each row's `check` (opsuite/standalone/properties.py) judges the support exactly and the moments
against eager's own sample of the same distribution. The generators draw a large sample
often (moments mean nothing in a handful of values) and small and empty shapes for the
shape logic.
"""

from __future__ import annotations

import math

import torch
from hypothesis import strategies as st

from opsuite.draw import shapes as S
from opsuite.draw import size_args as A
from opsuite.draw.context import Call, Ctx, call, variant
from opsuite.standalone import properties as P
from opsuite.table.row import FLOATS, OpRow

# Big enough that a wrong mean or spread shows beyond sampling noise (properties.MIN_SAMPLE).
LARGE = st.sampled_from(([64, 64], [3, 40, 50], [5000]))
SAMPLE_SIZES = st.one_of(LARGE, S.movement_shapes(0, 4).map(list))


def sample_label(shape) -> str | None:
    """"large" for a sample whose moments are checked, "empty", "0d", or None."""
    n = math.prod(shape)
    return "large" if n >= P.MIN_SAMPLE else "empty" if not n else "0d" if not len(shape) else None


def sized_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """rand/randn(size, dtype=): the default float32 also without dtype=."""
    def build(size, spelled):
        if spelled or ctx.dtype != "float32":
            return call(size, dtype=getattr(torch, ctx.dtype), variant=variant(sample_label(size)))
        return call(size, variant=variant("inferred", sample_label(size)))
    return st.builds(build, SAMPLE_SIZES, st.booleans())


def like_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """randn_like(self[, dtype]): self's shape, its dtype or another float one."""
    @st.composite
    def draw(d):
        x = d(ctx.tensors(SAMPLE_SIZES.map(tuple)))
        if d(st.booleans()):
            target = d(A.dtype_args(FLOATS))
            return call(x, dtype=target, variant=variant("to-" + str(target).removeprefix("torch."),
                                                           sample_label(x.shape)))
        return call(x, variant=variant(sample_label(x.shape)))
    return draw()


def randperm_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """randperm(n, dtype=): n from 0 to beyond the int8 range is not drawn (torch refuses it)."""
    top = {"int8": 127, "uint8": 255, "float16": 2048, "bfloat16": 256}.get(ctx.dtype, 3000)
    return st.sampled_from((0, 1, 2, 17, min(top, 300), top)).map(
        lambda n: call(n, dtype=getattr(torch, ctx.dtype)))


def bernoulli_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """bernoulli(self, p): p 0 and 1 (every value known) and in between; self's values unused."""
    return st.builds(lambda x, p: call(x, p, variant=variant("certain" if p in (0.0, 1.0) else None,
                                                             sample_label(x.shape))),
                     ctx.tensors(SAMPLE_SIZES.map(tuple), "prob"), st.sampled_from((0.0, 1.0, 0.5, 0.2, 0.9)))


def exponential_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """exponential(self, lambd): the default rate and others; self's values unused."""
    def build(x, rate):
        label = sample_label(x.shape)
        return call(x, variant=variant(label)) if rate is None else call(x, rate, variant=variant("lambd", label))
    return st.builds(build, ctx.tensors(SAMPLE_SIZES.map(tuple), "positive"), st.sampled_from((None, 0.5, 4.0)))


ROWS = [
    OpRow("aten.rand.default", sized_calls, FLOATS, edge=False, check=P.uniform_unit),
    OpRow("aten.randn.default", sized_calls, FLOATS, edge=False, check=P.same_distribution),
    OpRow("aten.randn_like.default", like_calls, FLOATS, edge=False, check=P.same_distribution),
    OpRow("aten.randperm.default", randperm_calls, ("int64", "int32", "float32", "float64", "int8", "uint8",
                                                    "float16", "bfloat16"), edge=False, check=P.permutation),
    OpRow("aten.bernoulli.p", bernoulli_calls, FLOATS, edge=False, check=P.zero_one),
    OpRow("aten.exponential.default", exponential_calls, FLOATS, edge=False, check=P.non_negative),
]

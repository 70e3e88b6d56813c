"""Tensors with pairwise-distinct values, for ops whose indices are ambiguous under ties.

sort, argsort, topk, median.dim and max-pool indices name *which* equal element they picked
only by implementation accident; a tensor without ties makes the indices a fair comparison.
"""

from __future__ import annotations

import math

import torch
from hypothesis import strategies as st

from opsuite.draw.context import Ctx
from opsuite.draw.values import LAYOUTS, relayout, torch_dtype

MAX_NUMEL = 200  # half-integers up to 100 are exact in bfloat16; int8 and uint8 keep room for extremes


def _distinct_values(n: int, dtype: torch.dtype, gen: torch.Generator, edge: bool) -> torch.Tensor:
    """n pairwise-distinct values, exact in `dtype` (half-integers below 100, never zero)."""
    if n > MAX_NUMEL:
        raise ValueError(f"at most {MAX_NUMEL} distinct values fit every dtype exactly, asked for {n}")
    perm = torch.randperm(n, generator=gen).double()
    if dtype.is_floating_point:
        values = perm - n // 2 + 0.5
        specials = [math.nan, math.inf, -math.inf, -0.0, torch.finfo(dtype).max / 2,
                    -torch.finfo(dtype).max / 2, torch.finfo(dtype).tiny]
    elif dtype == torch.uint8:
        values, specials = perm + 1, [0, 255]
    else:
        values, specials = perm - n // 2, [torch.iinfo(dtype).min, torch.iinfo(dtype).max]
    if edge and n:
        picks = torch.randperm(n, generator=gen)[: min(n, len(specials))]
        order = torch.randperm(len(specials), generator=gen)[: len(picks)]
        values[picks] = torch.tensor([specials[i] for i in order], dtype=torch.float64)
    return values.to(dtype)


def distinct_tensors(ctx: Ctx, shape: st.SearchStrategy) -> st.SearchStrategy[torch.Tensor]:
    """Tensors of ctx's dtype whose elements are pairwise distinct, in any layout.

    At most MAX_NUMEL elements. The edge tier places each special value (NaN, +-inf, -0.0, huge, tiny; integer extremes)
    at most once, so the order stays total.

    >>> distinct_tensors(Ctx("int8"), st.just((2, 3))).example().unique().numel()  # doctest: +SKIP
    6
    """
    @st.composite
    def draw(d):
        dims = d(shape)
        gen = torch.Generator().manual_seed(d(st.integers(0, 2**16)))
        values = _distinct_values(math.prod(dims), torch_dtype(ctx.dtype), gen, ctx.edge)
        return relayout(values.reshape(dims), d(st.sampled_from(LAYOUTS)))

    return draw()

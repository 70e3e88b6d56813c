"""Hypothesis strategies for op arguments: shapes, tensors, dims, scalars.

Each function validates its arguments and returns a strategy; tensors are drawn as
structure (shape, layout, seed) and built by `values.make_tensor`, so shrinking goes to
small shapes, contiguous layouts and seed 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from hypothesis import strategies as st

from opsuite.values import DOMAINS, make_tensor

LAYOUTS = ("contiguous", "transposed", "sliced")


def shapes(min_rank: int = 0, max_rank: int = 4, min_side: int = 1, max_side: int = 5) -> st.SearchStrategy[tuple[int, ...]]:
    """Shapes of rank in [min_rank, max_rank] with sides in [min_side, max_side].

    >>> shapes(1, 3, max_side=4).example()  # doctest: +SKIP
    (3, 1, 4)
    """
    if not 0 <= min_rank <= max_rank <= 6:
        raise ValueError(f"ranks must satisfy 0 <= min_rank <= max_rank <= 6, got {min_rank}, {max_rank}")
    if not 0 <= min_side <= max_side:
        raise ValueError(f"sides must satisfy 0 <= min_side <= max_side, got {min_side}, {max_side}")
    return st.integers(min_rank, max_rank).flatmap(
        lambda r: st.tuples(*[st.integers(min_side, max_side)] * r))


def shapes_with_edges(min_rank: int = 0, max_rank: int = 4, max_side: int = 5) -> st.SearchStrategy[tuple[int, ...]]:
    """Like `shapes`, but sides of 1 and 0 are drawn often: broadcasting and empty tensors.

    >>> shapes_with_edges(2, 2).example()  # doctest: +SKIP
    (0, 3)
    """
    side = st.one_of(st.just(1), st.just(0), st.integers(2, max_side))
    if not 0 <= min_rank <= max_rank <= 6:
        raise ValueError(f"ranks must satisfy 0 <= min_rank <= max_rank <= 6, got {min_rank}, {max_rank}")
    return st.integers(min_rank, max_rank).flatmap(lambda r: st.tuples(*[side] * r))


def broadcast_shapes(min_rank: int = 0, max_rank: int = 4, max_side: int = 5) -> st.SearchStrategy[tuple[tuple[int, ...], tuple[int, ...]]]:
    """Pairs of shapes that broadcast together: equal, one side 1, or a shorter rank.

    >>> broadcast_shapes().example()  # doctest: +SKIP
    ((2, 1, 4), (3, 1))
    """
    @st.composite
    def pair(draw):
        base = draw(shapes(min_rank, max_rank, 1, max_side))
        other = list(base)
        drop = draw(st.integers(0, len(other)))
        other = other[drop:]
        for i in range(len(other)):
            if draw(st.booleans()):
                other[i] = 1
        if draw(st.booleans()):
            return base, tuple(other)
        return tuple(other), base

    return pair()


def tensors(dtype: str, shape: st.SearchStrategy | Sequence[int], domain: str = "real",
            edge: bool = False, layouts: Sequence[str] = LAYOUTS,
            high: int | None = None) -> st.SearchStrategy[torch.Tensor]:
    """Tensors of `dtype` whose shape is drawn from `shape` (a strategy or a fixed shape).

    >>> tensors("float32", (2, 3), "positive").example().shape  # doctest: +SKIP
    torch.Size([2, 3])
    """
    if domain not in DOMAINS:
        raise ValueError(f"unknown domain {domain!r}; expected one of {DOMAINS}")
    if not set(layouts) <= set(LAYOUTS):
        raise ValueError(f"layouts must be among {LAYOUTS}")
    shape_st = shape if isinstance(shape, st.SearchStrategy) else st.just(tuple(shape))
    return st.builds(
        lambda s, seed, layout: make_tensor(s, dtype, domain, seed=seed, edge=edge, high=high, layout=layout),
        shape_st, st.integers(0, 2**16), st.sampled_from(tuple(layouts)))


def dims(rank: int, allow_negative: bool = True) -> st.SearchStrategy[int]:
    """A valid dim for a tensor of `rank`, negative indexing included.

    >>> dims(3).example() in range(-3, 3)  # doctest: +SKIP
    True
    """
    if rank < 0:
        raise ValueError("rank must be >= 0")
    top = max(rank, 1)
    low = -top if allow_negative else 0
    return st.integers(low, top - 1)


def dim_lists(rank: int) -> st.SearchStrategy[list[int]]:
    """A non-empty list of distinct dims (as non-negative and negative spellings).

    >>> dim_lists(3).example()  # doctest: +SKIP
    [0, -1]
    """
    if rank < 1:
        raise ValueError("dim lists need rank >= 1")
    return st.lists(st.integers(0, rank - 1), min_size=1, max_size=rank, unique=True).flatmap(
        lambda ds: st.tuples(*[st.sampled_from((d, d - rank)) for d in ds]).map(list))


def scalars(dtype: str, low: float = -3.0, high: float = 3.0) -> st.SearchStrategy[int | float | bool]:
    """A Python scalar suited to `dtype`: bool for bool, int for integer dtypes, float otherwise.

    >>> scalars("int32").example()  # doctest: +SKIP
    2
    """
    if dtype == "bool":
        return st.booleans()
    if torch.is_floating_point(torch.empty((), dtype=getattr(torch, dtype))):
        return st.floats(low, high, allow_nan=False, allow_infinity=False, width=32).map(lambda x: round(x, 3))
    return st.integers(int(low), int(high))

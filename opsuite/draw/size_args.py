"""Strategies for the size-like arguments of shape, indexing and creation ops (their input
shapes come from `shapes.movement_shapes`).

Shapes to reshape to (with an inferred -1), permutations, expand targets, split sizes,
slice bounds, memory formats and dtype arguments: each is drawn from the input's shape so
the call is valid in eager PyTorch, and leans towards what converters get wrong (negative
dims, -1 sizes, zero-size sides, out-of-range slice bounds).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from hypothesis import strategies as st

from opsuite.draw.values import ALL_DTYPES


def _check_shape(shape: Sequence[int]) -> tuple[int, ...]:
    shape = tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ValueError(f"a shape has non-negative sides, got {shape}")
    return shape


def _prime_factors(n: int) -> list[int]:
    factors, p = [], 2
    while p * p <= n:
        while n % p == 0:
            factors.append(p)
            n //= p
        p += 1
    return factors + ([n] if n > 1 else [])


def spell(dim: int, rank: int) -> st.SearchStrategy[int]:
    """`dim` as itself or as its negative spelling for a tensor of `rank`.

    >>> spell(1, 3).example() in (1, -2)  # doctest: +SKIP
    True
    """
    if not 0 <= dim < max(rank, 1):
        raise ValueError(f"dim {dim} is not a valid non-negative dim for rank {rank}")
    return st.sampled_from((dim, dim - max(rank, 1)))


def with_inferred(sizes: Sequence[int]) -> st.SearchStrategy[list[int]]:
    """`sizes`, or `sizes` with one side replaced by -1 where torch can infer it back.

    -1 is inferable only when the product of the other sides is non-zero.

    >>> with_inferred([2, 3]).example() in ([2, 3], [-1, 3], [2, -1])  # doctest: +SKIP
    True
    """
    sizes = list(sizes)
    spots = [i for i in range(len(sizes)) if math.prod(sizes[:i] + sizes[i + 1:]) != 0]
    if not spots:
        return st.just(sizes)
    return st.one_of(st.just(sizes), st.sampled_from(spots).map(
        lambda i: sizes[:i] + [-1] + sizes[i + 1:]))


@st.composite
def _factor_shapes(draw, numel: int, min_rank: int, max_rank: int) -> list[int]:
    if numel == 0:
        nonzero = draw(st.lists(st.integers(1, 4), min_size=max(0, min_rank - 1), max_size=max_rank - 1))
        sizes = nonzero + [0]
    else:
        primes = _prime_factors(numel)
        rank = draw(st.integers(max(min_rank, 1 if primes else 0), max(min_rank, 1, min(max_rank, len(primes) + 1))))
        sizes = [1] * rank
        for p in primes:
            sizes[draw(st.integers(0, rank - 1))] *= p
    return draw(st.permutations(sizes))


def reshape_targets(shape: Sequence[int], max_rank: int = 5, infer: bool = True,
                    min_rank: int = 0) -> st.SearchStrategy[list[int]]:
    """Sizes with the same element count as `shape`, of rank in [min_rank, max_rank], maybe
    with a -1.

    >>> reshape_targets((2, 6)).example()  # doctest: +SKIP
    [3, -1, 2]
    """
    shape = _check_shape(shape)
    if not 0 <= min_rank <= max_rank or max_rank < 1:
        raise ValueError(f"need 0 <= min_rank <= max_rank and max_rank >= 1, got {min_rank}, {max_rank}")
    target = _factor_shapes(math.prod(shape), min_rank, max_rank)
    return target.flatmap(with_inferred) if infer else target


def permutations(rank: int) -> st.SearchStrategy[list[int]]:
    """A permutation of range(rank), each dim spelt non-negative or negative.

    >>> permutations(3).example()  # doctest: +SKIP
    [2, -3, 1]
    """
    if rank < 0:
        raise ValueError("rank must be >= 0")
    if rank == 0:
        return st.just([])
    return st.permutations(list(range(rank))).flatmap(
        lambda p: st.tuples(*[spell(d, rank) for d in p]).map(list))


@st.composite
def expand_targets(draw, shape: Sequence[int], max_new: int = 2) -> list[int]:
    """Sizes `shape` expands to: size-1 sides grow (or stay), others stay or become -1, new
    leading sides are added (never -1 there: torch forbids it).

    >>> expand_targets((3, 1)).example()  # doctest: +SKIP
    [2, -1, 4]
    """
    shape = _check_shape(shape)
    lead = draw(st.lists(st.integers(0, 3), max_size=max(0, min(max_new, 5 - len(shape)))))
    sides = []
    for side in shape:
        if side == 1:
            sides.append(draw(st.sampled_from((0, 1, 2, 3, 4, -1))))
        else:
            sides.append(draw(st.sampled_from((side, -1))))
    return lead + sides


@st.composite
def split_sizes(draw, total: int, max_parts: int = 4) -> list[int]:
    """Non-negative sizes summing to `total` (zero-size parts included).

    >>> sum(split_sizes(5).example())  # doctest: +SKIP
    5
    """
    if total < 0 or max_parts < 1:
        raise ValueError("need total >= 0 and max_parts >= 1")
    cuts = sorted(draw(st.lists(st.integers(0, total), max_size=max_parts - 1)))
    bounds = [0, *cuts, total]
    return [b - a for a, b in zip(bounds, bounds[1:], strict=False)]


def slice_bounds(size: int) -> st.SearchStrategy[int | None]:
    """A start or end for a slice of a side of `size`: None, in range, negative, or far out of
    range (torch clamps those; a converter may not).

    >>> slice_bounds(4).example()  # doctest: +SKIP
    -100
    """
    if size < 0:
        raise ValueError("size must be >= 0")
    return st.one_of(st.none(), st.integers(-size - 1, size + 1), st.sampled_from((-100, 100, 2**62)))


def memory_formats(rank: int) -> st.SearchStrategy[torch.memory_format | None]:
    """A memory_format argument valid for a tensor of `rank` (channels_last needs rank 4).

    >>> memory_formats(4).example()  # doctest: +SKIP
    torch.channels_last
    """
    choices: list = [None, torch.preserve_format, torch.contiguous_format]
    if rank == 4:
        choices.append(torch.channels_last)
    if rank == 5:
        choices.append(torch.channels_last_3d)
    return st.sampled_from(choices)


def dtype_args(names: Sequence[str] = ALL_DTYPES) -> st.SearchStrategy[torch.dtype]:
    """A torch.dtype among `names`, for the dtype= argument of creation and conversion ops.

    >>> dtype_args(["int8", "float16"]).example()  # doctest: +SKIP
    torch.float16
    """
    unknown = set(names) - set(ALL_DTYPES)
    if unknown or not names:
        raise ValueError(f"dtype names must be a non-empty subset of {ALL_DTYPES}, got {sorted(unknown)}")
    return st.sampled_from([getattr(torch, n) for n in names])

"""Shapes, dims and broadcasting: every shape strategy of the op table, in one place.

They differ in how often a side is 0 (an empty tensor proves little about values, yet
converters break on it) or 1 (broadcasting), and in where hypothesis shrinks to.

Shapes that make a reference degenerate (a zero side: an empty output; a one-element operand
broadcast over a larger target: a constant one) are drawn only where `degenerate_shapes(True)`
is in force. Generation turns it on for the edge tier alone, so the normal tier's cases carry
varied values and their passes prove something; empty tensors stay in the edge tier.

    degenerate_shapes       whether the draws below may give a side 0 (default: they may)
    counts                  a size-like integer (repeat, length, steps) under the same rule
    broadcastable_to        a shape that broadcasts to a target, one element only under it

The zero-side rates below hold where zero sides are allowed; `shapes` takes its min_side as
given (a caller passes 0 only where `degenerate_allowed()`).

    shapes                  sides uniform in [min_side, max_side]
    broadcast_shapes        a pair that broadcasts: equal, one side 1, or a shorter rank
    sides, layer_shapes     reductions and layers: a side is 0 about one draw in ten,
                            an element cap; shape_and_dim(s) add dims to reduce over
    movement_shapes         shape, indexing and creation ops: one shape in eight has one 0 side
    element_shapes          elementwise ops: the minimal example is 3x3, not 0-dim; empty in
                            about one case in eight
    broadcast_pair/triple   elementwise operands that broadcast, 0-dim ones among them
    dims, dim_lists         valid dims of a rank, negative spellings included

Each validates its arguments and returns a strategy; hypothesis shrinks towards the first
choice of every draw, which the docstrings name where it matters.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
from collections.abc import Iterator

from hypothesis import strategies as st

# ------------------------------------------------------------------------- empty sides
# Read when a shape is drawn, not when its strategy is built: some rows build their strategies
# at import time, long before a tier is chosen.
_DEGENERATE: contextvars.ContextVar[bool] = contextvars.ContextVar("degenerate_shapes", default=True)


@contextlib.contextmanager
def degenerate_shapes(allowed: bool) -> Iterator[None]:
    """Within the block, the shape draws of this module (and the rows that ask
    `degenerate_allowed`) give a zero side or a one-element broadcast operand only if `allowed`.

    Where a zero side would have been drawn, a disallowed one gets another side (min_side's
    neighbour, 3, or 1), so the same choices still give a shape.
    """
    token = _DEGENERATE.set(bool(allowed))
    try:
        yield
    finally:
        _DEGENERATE.reset(token)


def degenerate_allowed() -> bool:
    return _DEGENERATE.get()


def broadcastable_to(shape: tuple[int, ...]) -> st.SearchStrategy[tuple[int, ...]]:
    """A trailing part of `shape` with some sides set to 1: it broadcasts to `shape`.

    Where degenerate shapes are not allowed and `shape` has more than one element, the result
    keeps at least one side above 1 (a one-element operand broadcast over the target makes a
    copy, a fill or a mask constant).

    >>> broadcastable_to((2, 3)).example() in ((), (3,), (1,), (2, 3), (1, 3), (2, 1), (1, 1))  # doctest: +SKIP
    True
    """
    @st.composite
    def draw(d):
        drop = d(st.integers(0, len(shape)))
        sides = [d(st.sampled_from((side, 1))) for side in shape[drop:]]
        if not degenerate_allowed() and math.prod(sides) == 1 < math.prod(shape):
            # every drawn side is 1: the widest side of the target comes back, and with it
            # the dims after it
            widest = max(range(len(shape)), key=lambda i: shape[i])
            sides = [shape[widest]] + [1] * (len(shape) - widest - 1)
        return tuple(sides)

    return draw()


def counts(low: int, high: int) -> st.SearchStrategy[int]:
    """An integer in [low, high] that sizes an output (a side, a repeat, a length, a number of
    steps): where empty sides are not allowed a drawn 0 becomes 1 (when 1 is in range).

    >>> with degenerate_shapes(False): counts(0, 3).example() > 0  # doctest: +SKIP
    True
    """
    if not 0 <= low <= high:
        raise ValueError(f"counts need 0 <= low <= high, got {low}, {high}")
    return st.integers(low, high).map(lambda n: n if n or high < 1 or degenerate_allowed() else 1)


# ------------------------------------------------------------------------- uniform sides


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


# ------------------------------------------------------------ reductions and layers
# A zero side a third of the time would make most rank-4 tensors empty, and a reduction or a
# layer over an empty tensor proves nothing: here a side is 0 about one draw in ten, so most
# cases carry values and a few stay empty.


def sides(max_side: int = 4, empty: bool = True, min_side: int = 1) -> st.SearchStrategy[int]:
    """A side length in [min_side, max_side], and 0 about one draw in ten when `empty`.

    Shrinks towards min_side.

    >>> sides(3).example() in (0, 1, 2, 3)  # doctest: +SKIP
    True
    """
    if not 1 <= min_side <= max_side:
        raise ValueError(f"sides must satisfy 1 <= min_side <= max_side, got {min_side}, {max_side}")
    table = tuple(range(min_side, max_side + 1))
    if empty:
        table = table * 3 + (0,)
    instead = min(max_side, min_side + 1)
    return st.integers(0, len(table) - 1).map(
        lambda i: table[i] if table[i] or degenerate_allowed() else instead)


def layer_shapes(min_rank: int = 0, max_rank: int = 4, max_side: int = 4, empty: bool = True,
                 max_numel: int | None = None, min_side: int = 1) -> st.SearchStrategy[tuple[int, ...]]:
    """Shapes of rank in [min_rank, max_rank], sides from `sides`, at most `max_numel` elements.

    >>> layer_shapes(1, 3, max_side=3).example()  # doctest: +SKIP
    (3, 1, 2)
    """
    if not 0 <= min_rank <= max_rank <= 6:
        raise ValueError(f"ranks must satisfy 0 <= min_rank <= max_rank <= 6, got {min_rank}, {max_rank}")
    side = sides(max_side, empty, min_side)
    drawn = st.integers(min_rank, max_rank).flatmap(lambda r: st.tuples(*[side] * r))
    if max_numel is None:
        return drawn
    return drawn.filter(lambda s: math.prod(s) <= max_numel)


def shape_and_dim(min_rank: int = 0, max_rank: int = 4, max_side: int = 4, empty: bool = True,
                  nonempty_dim: bool = False) -> st.SearchStrategy[tuple[tuple[int, ...], int]]:
    """A shape and one dim of it, as a non-negative or negative index; a 0-dim shape gets 0 or -1.

    With `nonempty_dim` the chosen dim has at least one element (max.dim, argmax, median.dim
    reject an empty reduced dim).

    >>> shape_and_dim(1, 3).example()  # doctest: +SKIP
    ((2, 4), -1)
    """
    @st.composite
    def draw(d):
        shape = list(d(layer_shapes(min_rank, max_rank, max_side, empty)))
        rank = len(shape)
        top = max(rank, 1)
        dim = d(st.integers(-top, top - 1))
        if nonempty_dim and rank and shape[dim] == 0:
            shape[dim] = d(st.integers(1, max_side))
        return tuple(shape), dim

    return draw()


def shape_and_dims(min_rank: int = 1, max_rank: int = 4, max_side: int = 4,
                   empty: bool = True) -> st.SearchStrategy[tuple[tuple[int, ...], list[int]]]:
    """A shape and a non-empty list of distinct dims of it, some spelled negative.

    >>> shape_and_dims().example()  # doctest: +SKIP
    ((3, 1, 2), [0, -1])
    """
    if min_rank < 1:
        raise ValueError("dim lists need min_rank >= 1")

    @st.composite
    def draw(d):
        shape = d(layer_shapes(min_rank, max_rank, max_side, empty))
        rank = len(shape)
        dims = d(st.lists(st.integers(0, rank - 1), min_size=1, max_size=rank, unique=True))
        return shape, [d(st.sampled_from((x, x - rank))) for x in dims]

    return draw()


# ------------------------------------------------------------ shape, indexing, creation


@st.composite
def _shapes(draw, min_rank: int, max_rank: int, max_side: int) -> tuple[int, ...]:
    sides = draw(shapes(min_rank, max_rank, 1, max_side).map(list))
    if sides and degenerate_allowed() and draw(st.integers(0, 7)) == 0:
        sides[draw(st.integers(0, len(sides) - 1))] = 0
    return tuple(sides)


def movement_shapes(min_rank: int = 0, max_rank: int = 5, max_side: int = 5) -> st.SearchStrategy[tuple[int, ...]]:
    """Shapes of rank in [min_rank, max_rank]; about one in eight has a zero-size side.

    Most cases carry data (the `empty` predicate picks out the others).

    >>> movement_shapes(2, 3).example()  # doctest: +SKIP
    (3, 0, 1)
    """
    shapes(min_rank, max_rank, 1, max_side)  # validates the bounds
    return _shapes(min_rank, max_rank, max_side)


# ------------------------------------------------------------------------- elementwise
# Sampled lists, not integer ranges: hypothesis's simplest example is a list's first element,
# so the minimal case (the first one of every row, and where nightly shrinking heads) is a
# 3x3 tensor, not a 0-dim one whose single value is too often a degenerate reference.
_RANKS = (2, 3, 1, 0, 4, 5)
# About one side in twenty is 0 (empty tensors), one in five is 1 (broadcasting).
_SIDES = (3, 1, 4, 2, 5, 1, 3, 2, 4, 5, 3, 1, 2, 4, 5, 3, 2, 1, 4, 0)


def element_shapes(max_rank: int = 5) -> st.SearchStrategy[tuple[int, ...]]:
    """Shapes of rank 0..max_rank, sides 0..5; empty in about one case in eight.

    >>> element_shapes().example()  # doctest: +SKIP
    (3, 1, 4)
    """
    if not 0 <= max_rank <= 5:
        raise ValueError(f"max_rank must be in 0..5, got {max_rank}")
    ranks = tuple(r for r in _RANKS if r <= max_rank)
    side = st.sampled_from(_SIDES).map(lambda s: s if s or degenerate_allowed() else 3)
    return st.sampled_from(ranks).flatmap(lambda r: st.tuples(*[side] * r))


@st.composite
def _derived(draw, base: tuple[int, ...]) -> tuple[int, ...]:
    """A shape that broadcasts to `base`: leading dims dropped, some sides set to 1."""
    shape = list(base[draw(st.sampled_from((0, 0, 1, 2))) if base else 0:])
    for i in range(len(shape)):
        if draw(st.sampled_from((False, False, True))):
            shape[i] = 1
    return tuple(shape)


@st.composite
def broadcast_pair(draw, mixed: bool = False) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Two shapes that broadcast together, in either order; empty sides broadcast too. With
    `mixed` one side is often 0-dim, since PyTorch lets a dimensioned operand's dtype win
    over a 0-dim operand's of the same category.

    >>> broadcast_pair().example()  # doctest: +SKIP
    ((2, 1, 4), (3, 1))
    """
    base = draw(element_shapes())
    other = draw(_derived(base))
    sa, sb = (base, other) if draw(st.booleans()) else (other, base)
    if mixed and draw(st.booleans()):
        sa, sb = ((), sb) if draw(st.booleans()) else (sa, ())
    return sa, sb


@st.composite
def broadcast_triple(draw) -> tuple[tuple[int, ...], ...]:
    """Three shapes that broadcast together; one of them is the broadcast result."""
    base = draw(element_shapes(4))
    shapes = [draw(_derived(base)) for _ in range(3)]
    shapes[draw(st.integers(0, 2))] = base
    return tuple(shapes)

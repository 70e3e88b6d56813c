"""Shapes for reductions and layers: empty sides rare, and dims the op can reduce over.

`strategies.shapes_with_edges` draws a zero side a third of the time, which makes most
rank-4 tensors empty; a reduction or a layer then proves nothing. These strategies keep
empty sides to about one draw in ten, so most cases carry values and a few stay empty.
"""

from __future__ import annotations

import math

from hypothesis import strategies as st


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
    return st.integers(0, len(table) - 1).map(lambda i: table[i])


def shapes(min_rank: int = 0, max_rank: int = 4, max_side: int = 4, empty: bool = True,
           max_numel: int | None = None, min_side: int = 1) -> st.SearchStrategy[tuple[int, ...]]:
    """Shapes of rank in [min_rank, max_rank], sides from `sides`, at most `max_numel` elements.

    >>> shapes(1, 3, max_side=3).example()  # doctest: +SKIP
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
        shape = list(d(shapes(min_rank, max_rank, max_side, empty)))
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
        shape = d(shapes(min_rank, max_rank, max_side, empty))
        rank = len(shape)
        dims = d(st.lists(st.integers(0, rank - 1), min_size=1, max_size=rank, unique=True))
        return shape, [d(st.sampled_from((x, x - rank))) for x in dims]

    return draw()

"""Indexing ops: advanced indexing, index_put, gather/scatter and their reductions, take,
masked ops, nonzero, bucketize, isin, one_hot, select_scatter and slice_scatter.

Index tensors are drawn in range (the 'index' domain, negative spellings where the op
allows them), since an out-of-range index is an error in eager. Scatters and index_put
get distinct target positions unless the case is about accumulation: with duplicates the
surviving write is unspecified. Rows keep edge=True where the data values matter; the
edge tier only touches the data operand, never the indices.
"""

from __future__ import annotations

import math

import torch
from hypothesis import strategies as st

from opsuite.draw import shapes as S
from opsuite.draw import size_args as A
from opsuite.draw import values as V
from opsuite.draw.context import Call, Ctx, call, variant
from opsuite.table.row import FLOATS, NUMERIC, OpRow, dtypes_for

DATA = S.shapes(1, 4, 1, 5)  # data tensors have no zero sides: every index must be in range
SEEDS = st.integers(0, 2**16)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def index_tensors(shape, high: int, negative: bool = False) -> st.SearchStrategy[torch.Tensor]:
    """int64 indices in [0, high) of `shape`; with `negative`, in half the tensors some are
    spelt as i - high.

    >>> index_tensors((2,), 4, negative=True).example().tolist()  # doctest: +SKIP
    [-1, 2]
    """
    if high < 1:
        raise ValueError("indices need high >= 1")
    plain = V.tensors("int64", shape, "index", high=high, layouts=("contiguous",))
    if not negative:
        return plain
    return st.builds(lambda t, seed, flip: torch.where(torch.rand(t.shape, generator=_gen(seed)) < 0.5, t - high, t)
                     if flip else t, plain, SEEDS, st.booleans())


def distinct_along(shape: tuple[int, ...], dim: int, high: int, seed: int) -> torch.Tensor:
    """An int64 index tensor of `shape` whose entries are distinct along `dim` (each in
    [0, high), shape[dim] <= high): scatter targets without collisions."""
    keys = torch.rand((*shape[:dim], high, *shape[dim + 1:]), generator=_gen(seed))
    return keys.argsort(dim=dim).narrow(dim, 0, shape[dim]).contiguous()


def _smaller(shape: tuple[int, ...]) -> st.SearchStrategy[tuple[int, ...]]:
    return st.tuples(*[st.integers(1, side) for side in shape])


# ---------------------------------------------------------------- advanced indexing


@st.composite
def _advanced(draw, x: torch.Tensor, unique: bool) -> tuple[list, str]:
    """An index list for x: None to skip a dim, int tensors (broadcasting together), or one
    bool mask over leading dims. `unique`: the int tensors address distinct elements."""
    rank = x.dim()
    if draw(st.integers(0, 4)) == 0:
        lead = draw(st.integers(1, rank))
        mask = draw(V.tensors("bool", tuple(x.shape[:lead]), layouts=("contiguous",)))
        return [mask], variant("mask", "partial" if lead < rank else None)
    skip = draw(st.integers(0, rank - 1))
    count = draw(st.integers(1, rank - skip))
    sides = x.shape[skip:skip + count]
    if unique:
        total = math.prod(sides)
        picks = draw(st.permutations(range(total)))[: draw(st.integers(1, total))]
        flat = torch.tensor(picks, dtype=torch.int64)
        tensors = [t for t in torch.unravel_index(flat, tuple(sides))]
        label = "unique"
    else:
        index_shapes = draw(S.broadcast_shapes(1, 2, max_side=3)) if count > 1 else ((draw(S.shapes(0, 2, 1, 4))),)
        tensors = [draw(index_tensors(index_shapes[i % len(index_shapes)], side, negative=True))
                   for i, side in enumerate(sides)]
        label = variant("broadcast" if count > 1 else None, "neg" if any((t < 0).any() for t in tensors) else None)
    partial = skip + count < rank  # trailing dims taken whole
    zero_d = any(t.dim() == 0 for t in tensors)
    return [None] * skip + tensors, variant(label, "skip" if skip else None, "partial" if partial else None,
                                              "scalar-index" if zero_d else None)


def index_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """x[indices]: skipped dims, negative and repeated indices, broadcast index tensors, masks."""
    return ctx.tensors(DATA).flatmap(lambda x: _advanced(x, unique=False).map(
        lambda pair: call(x, pair[0], variant=pair[1])))


def _indexed_shape(x: torch.Tensor, indices: list) -> tuple[int, ...]:
    return tuple(x[tuple(slice(None) if i is None else i for i in indices)].shape)


def index_put_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """index_put(x, indices, values, accumulate): distinct targets when writing; repeated ones
    when accumulating; values of the indexed shape or broadcast to it (a trailing suffix, 0-d)."""
    @st.composite
    def draw(d):
        x = d(ctx.tensors(DATA))
        accumulate = d(st.booleans()) and ctx.dtype != "bool"
        indices, label = d(_advanced(x, unique=not accumulate))
        target = _indexed_shape(x, indices)
        shape = target[d(st.integers(0, len(target))):]
        values = d(ctx.tensors(tuple(shape), operand=1, seed_slot=0))
        label = variant(label, "accumulate" if accumulate else None, "broadcast-values" if shape != target else None)
        return call(x, indices, values, accumulate, variant=label) if accumulate or d(st.booleans()) \
            else call(x, indices, values, variant=label)
    return draw()


# ---------------------------------------------------------------- gather / scatter


def index_select_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """index_select(x, dim, index): a 1-d index with repeats, an empty one, or a 0-d one."""
    @st.composite
    def draw(d):
        x = d(ctx.tensors(DATA))
        dim = d(S.dims(x.dim()))
        shape = d(st.sampled_from(((), (0,), (1,), (3,), (7,))))
        if shape == (0,) and not S.degenerate_allowed():
            shape = (3,)
        index = d(index_tensors(shape, x.shape[dim]))
        return call(x, dim, index, variant=variant("scalar-index" if not shape else None))
    return draw()


def gather_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """gather(x, dim, index): index of x's rank, no larger than x off `dim`, longer along it."""
    @st.composite
    def draw(d):
        x = d(ctx.tensors(DATA))
        dim = d(S.dims(x.dim()))
        shape = list(d(_smaller(tuple(x.shape))))
        shape[dim] = d(S.counts(0, 6))
        index = d(index_tensors(tuple(shape), x.shape[dim]))
        return call(x, dim, index, variant=variant("empty-index" if not index.numel() else None))
    return draw()


@st.composite
def _scatter_operands(draw, ctx: Ctx, distinct: bool) -> tuple[torch.Tensor, int, torch.Tensor, tuple[int, ...]]:
    x = draw(ctx.tensors(DATA))
    dim = draw(S.dims(x.dim()))
    shape = list(draw(_smaller(tuple(x.shape))))
    if distinct:
        index = distinct_along(tuple(shape), dim % x.dim(), x.shape[dim], draw(SEEDS))
    else:
        shape[dim] = draw(st.integers(1, 2 * x.shape[dim]))
        index = draw(index_tensors(tuple(shape), x.shape[dim]))
    src_shape = tuple(s + draw(st.integers(0, 1)) for s in shape)  # src may be larger than index
    return x, dim, index, src_shape


def scatter_calls(ctx: Ctx, value: bool) -> st.SearchStrategy[Call]:
    """scatter(x, dim, index, src | value): distinct targets along dim; src larger than index."""
    @st.composite
    def draw(d):
        x, dim, index, src_shape = d(_scatter_operands(ctx, distinct=True))
        if value:
            return call(x, dim, index, d(ctx.scalars(0 if ctx.dtype == "uint8" else -3, 3, operand=1)))
        label = "larger-src" if src_shape != tuple(index.shape) else None
        return call(x, dim, index, d(ctx.tensors(src_shape, operand=1, seed_slot=0)), variant=variant(label))
    return draw()


def scatter_add_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """scatter_add(x, dim, index, src): repeated targets, which must accumulate."""
    return _scatter_operands(ctx, distinct=False).flatmap(lambda ops: ctx.tensors(ops[3], operand=1, seed_slot=0).map(
        lambda src: call(ops[0], ops[1], ops[2], src)))


REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


def scatter_reduce_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """scatter_reduce(x, dim, index, src, reduce, include_self): every reduction, repeated
    targets, include_self both ways."""
    @st.composite
    def draw(d):
        x, dim, index, src_shape = d(_scatter_operands(ctx, distinct=False))
        reduce = d(st.sampled_from(REDUCTIONS))
        domain = "small" if reduce == "prod" else "real"
        src = d(ctx.tensors(src_shape, domain, operand=1, seed_slot=0))
        include = d(st.booleans())
        label = variant(reduce, None if include else "exclude-self")
        if include and d(st.booleans()):
            return call(x, dim, index, src, reduce, variant=label)
        return call(x, dim, index, src, reduce, include_self=include, variant=label)
    return draw()


def _index_shapes() -> st.SearchStrategy[tuple[int, ...]]:
    """Index shapes of rank 0..3; empty ones where empty sides are allowed (the edge tier)."""
    return S.shapes(0, 3, 0 if S.degenerate_allowed() else 1, 4)


def take_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """take(x, index): flat indices of any shape, negative ones counting from the end."""
    return ctx.tensors(DATA).flatmap(lambda x: index_tensors(_index_shapes(), x.numel(), negative=True).map(
        lambda index: call(x, index, variant=variant("neg" if (index < 0).any() else None,
                                                       "scalar-index" if not index.dim() else None,
                                                       "multi-dim" if x.dim() > 1 else None))))


# ---------------------------------------------------------------- masks


def _masks(shape: tuple[int, ...]) -> st.SearchStrategy[torch.Tensor]:
    """A bool mask that broadcasts to `shape` (a trailing part, sides maybe 1)."""
    return S.broadcastable_to(shape).flatmap(lambda s: V.tensors("bool", s))


def masked_fill_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """masked_fill(x, mask, value): a broadcast mask, a value of operand 1's kind."""
    @st.composite
    def draw(d):
        x = d(ctx.tensors(S.movement_shapes(0, 4)))
        mask = d(_masks(tuple(x.shape)))
        value = d(ctx.scalars(0 if ctx.part(1) == "uint8" else -3, 3, operand=1))
        return call(x, mask, value, variant=variant("broadcast" if mask.shape != x.shape else None))
    return draw()


def masked_scatter_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """masked_scatter(x, mask, source): source with at least as many elements as the mask
    selects, of another shape."""
    @st.composite
    def draw(d):
        x = d(ctx.tensors(S.movement_shapes(0, 4)))
        mask = d(_masks(tuple(x.shape)))
        need = int(mask.expand(x.shape).sum())
        source = d(ctx.tensors((need + d(st.integers(0, 3)),)))
        return call(x, mask, source, variant=variant("broadcast" if mask.shape != x.shape else None))
    return draw()


def masked_select_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    return ctx.tensors(S.movement_shapes(0, 4)).flatmap(lambda x: _masks(tuple(x.shape)).map(lambda m: call(x, m)))


def nonzero_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """nonzero(x): ranks 0 to 4 with some zeros (the 'small' domain rounds to them in ints)."""
    return ctx.tensors(S.movement_shapes(0, 4), "small" if ctx.dtype in FLOATS else "real").map(lambda x: call(x))


# ---------------------------------------------------------------- search and encoding


def bucketize_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """bucketize(x, boundaries, out_int32, right): sorted boundaries with repeats, inputs that
    tie with boundaries (integers in a small range), both sides and index dtypes."""
    @st.composite
    def draw(d):
        x = d(ctx.tensors(S.movement_shapes(0, 3)))
        rounded = x if ctx.dtype not in FLOATS or ctx.edge else x.round()
        size = d(st.integers(1, 8))
        low = 0 if ctx.dtype == "uint8" else -5
        bounds = torch.tensor(sorted(d(st.lists(st.integers(low, 5), min_size=size, max_size=size))),
                              dtype=x.dtype)
        out_int32, right = d(st.booleans()), d(st.booleans())
        return call(rounded, bounds, out_int32=out_int32, right=right,
                    variant=variant("right" if right else None, "int32" if out_int32 else None))
    return draw()


def isin_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """isin(elements, test_elements, assume_unique, invert): integer-valued data so members
    exist, a 0-d test set, invert both ways."""
    @st.composite
    def draw(d):
        # Contiguous only: eager isin fails on a transposed test set ("view size is not compatible").
        elements = d(ctx.tensors(S.movement_shapes(0, 3), layouts=("contiguous",)))
        tests = d(ctx.tensors(d(st.sampled_from(((), (1,), (4,), (2, 3)))), operand=1, layouts=("contiguous",), seed_slot=0))
        if ctx.dtype in FLOATS and not ctx.edge:
            elements, tests = elements.round(), tests.round()
        invert = d(st.booleans())
        return call(elements, tests, invert=invert, variant=variant("invert" if invert else None))
    return draw()


def one_hot_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """one_hot(x, num_classes): classes given (more than used) or inferred (-1) from the data."""
    @st.composite
    def draw(d):
        classes = d(st.integers(1, 6))
        x = d(index_tensors(S.movement_shapes(0, 3), classes))
        given = d(st.sampled_from((-1, classes, classes + 2)))
        return call(x, given, variant="inferred" if given == -1 else "default")
    return draw()


def select_scatter_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """select_scatter(x, src, dim, index): src has x's shape without dim; negative index."""
    @st.composite
    def draw(d):
        x = d(ctx.tensors(DATA))
        dim = d(S.dims(x.dim()))
        index = d(st.integers(-x.shape[dim], x.shape[dim] - 1))
        src = d(ctx.tensors(tuple(x.select(dim, index).shape), operand=1, seed_slot=0))
        return call(x, src, dim, index, variant=variant("neg-index" if index < 0 else None))
    return draw()


def slice_scatter_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """slice_scatter(x, src, dim, start, end, step): bounds out of range and None, steps > 1."""
    @st.composite
    def draw(d):
        x = d(ctx.tensors(DATA))
        dim = d(S.dims(x.dim()))
        start, end = d(A.slice_bounds(x.shape[dim])), d(A.slice_bounds(x.shape[dim]))
        step = d(st.sampled_from((1, 2, 3)))
        src = d(ctx.tensors(tuple(torch.ops.aten.slice.Tensor(x, dim, start, end, step).shape), operand=1, seed_slot=0))
        side = x.shape[dim]
        outside = any(b is not None and not -side <= b <= side for b in (start, end))
        label = variant("step" if step > 1 else None, "one-none" if (start is None) != (end is None) else None,
                          "out-of-range" if outside else None, "empty-src" if not src.numel() else None)
        return call(x, src, dim, start, end, step, variant=label)
    return draw()


INDEXABLE = dtypes_for("index_put")
# self + the value's kind: index_put/scatter take values of self's dtype; masked_fill casts.
FILL_MIXED = ("int32+float32", "float16+int64", "bool+int64")
ROWS = [
    OpRow("aten.index.Tensor", index_calls, dtypes_for("__getitem__")),
    OpRow("aten.index_put.default", index_put_calls, INDEXABLE),
    # In place: decomposition turns index_put_ into index_put.
    OpRow("aten.index_put_.default", index_put_calls, INDEXABLE, decompose=False),
    OpRow("aten.index_select.default", index_select_calls, dtypes_for("index_select")),
    OpRow("aten.gather.default", gather_calls, dtypes_for("gather")),
    OpRow("aten.scatter.src", lambda ctx: scatter_calls(ctx, False), dtypes_for("scatter")),
    OpRow("aten.scatter.value", lambda ctx: scatter_calls(ctx, True), dtypes_for("scatter")),
    OpRow("aten.scatter_add.default", scatter_add_calls, dtypes_for("scatter_add")),
    # prod and mean of bool are refused by eager; float16 sums of repeated targets round per step.
    OpRow("aten.scatter_reduce.two", scatter_reduce_calls, NUMERIC),
    OpRow("aten.take.default", take_calls, dtypes_for("take")),
    OpRow("aten.take.default", take_calls, ("float32", "int64"), decompose=False, label="nodecomp"),
    OpRow("aten.masked_fill.Scalar", masked_fill_calls, dtypes_for("masked_fill") + FILL_MIXED),
    # masked_fill decomposes to where; its own converters are reached only undecomposed.
    OpRow("aten.masked_fill.Scalar", masked_fill_calls, ("float32", "int64", "int32+float32"), decompose=False,
          label="nodecomp"),
    OpRow("aten.masked_fill_.Scalar", masked_fill_calls, dtypes_for("masked_fill") + FILL_MIXED, decompose=False),
    OpRow("aten.masked_scatter.default", masked_scatter_calls, dtypes_for("masked_scatter")),
    OpRow("aten.masked_select.default", masked_select_calls, dtypes_for("masked_select")),
    OpRow("aten.nonzero.default", nonzero_calls, dtypes_for("nonzero")),
    OpRow("aten.bucketize.Tensor", bucketize_calls, dtypes_for("bucketize")),
    # isin decomposes into eq + any; the isin converter is reached only undecomposed.
    OpRow("aten.isin.Tensor_Tensor", isin_calls, dtypes_for("isin")),
    OpRow("aten.isin.Tensor_Tensor", isin_calls, dtypes_for("isin"), decompose=False, label="nodecomp"),
    OpRow("aten.one_hot.default", one_hot_calls, ("int64",), edge=False),
    OpRow("aten.one_hot.default", one_hot_calls, ("int64",), edge=False, decompose=False, label="nodecomp"),
    OpRow("aten.select_scatter.default", select_scatter_calls, dtypes_for("select_scatter")),
    OpRow("aten.select_scatter.default", select_scatter_calls, ("float32", "int64"), decompose=False,
          label="nodecomp"),
    OpRow("aten.slice_scatter.default", slice_scatter_calls, dtypes_for("slice_scatter")),
]

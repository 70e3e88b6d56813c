"""Creation ops: ranges, filled tensors, identity matrices, windows, uninitialised memory, and
the `*_like` / `new_*` / in-place fills that take their shape or dtype from a tensor.

Most have no tensor input: export bakes every size, scalar and dtype into the graph as a
constant, so the compiled program takes no arguments. The row's dtype is the `dtype=`
argument; a call that leaves it out (the dtype is then inferred from the scalars) is drawn
only for the row dtype the inference gives, and labelled `inferred`.

Decomposition rewrites zeros/ones/new_* into full, *_like and fills into full_like,
arange's short forms into arange.start_step, empty_like into empty_permuted: those rows
run undecomposed to reach their own converters. eye and linspace decompose into a graph of
several ops, so they keep both rows.
"""

from __future__ import annotations

import math

import torch
from hypothesis import strategies as st

from opsuite.draw import shapes as S
from opsuite.draw import size_args as A
from opsuite.draw.context import Call, Ctx, call, variant
from opsuite.standalone import properties as P
from opsuite.table.row import ALL, FLOATS, NUMERIC, OpRow, dtypes_for

NO_CASE: dict[str, str] = {
    "aten.to_sparse.default": "its output is a sparse COO tensor: export and import work, but the comparison "
                              "cannot read it (torch has no aten::all / eq.Scalar for SparseCPU), so no "
                              "verdict would be TVM's",
}
SIZES = S.movement_shapes(0, 4).map(list)


def _is_float(dtype: str) -> bool:
    return dtype in FLOATS


def fill_values(ctx: Ctx, operand: int = 0) -> st.SearchStrategy[bool | int | float]:
    """A Python scalar that fits dtype `ctx.part(operand)`: ordinary values, or in the edge tier
    the dtype's extremes (NaN, +-inf, -0.0, finfo.max; iinfo.min and max).

    >>> fill_values(Ctx("int8", edge=True)).example() in (-128, 127, 0, -1)  # doctest: +SKIP
    True
    """
    dtype = ctx.part(operand)
    if dtype == "bool":
        return st.booleans()
    if not ctx.edge:
        return ctx.scalars(0 if dtype == "uint8" else -9, 9, operand).filter(lambda v: v not in (0, 1))
    if _is_float(dtype):
        top = torch.finfo(getattr(torch, dtype)).max
        return st.sampled_from((math.nan, math.inf, -math.inf, -0.0, top, -top))
    info = torch.iinfo(getattr(torch, dtype))
    return st.sampled_from((info.min, info.max, 0, info.max - 1))


def _dtype_kwargs(ctx: Ctx, inferred: str | None) -> st.SearchStrategy[dict]:
    """`dtype=` the row dtype; or no dtype argument when inference gives the row dtype."""
    given = st.just({"dtype": getattr(torch, ctx.dtype)})
    return st.one_of(given, st.just({})) if ctx.dtype == inferred else given


def full_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """full(size, value): a value of the row dtype's kind; without dtype= torch infers
    bool, int64 or float32 from the value."""
    inferred = {"bool": "bool", "int64": "int64", "float32": "float32"}.get(ctx.dtype)
    return st.builds(lambda size, value, kw: call(size, value, variant="inferred" if not kw else "default", **kw),
                     SIZES, fill_values(ctx), _dtype_kwargs(ctx, inferred))


def sized_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """zeros/ones/empty(size): a size list; float32 (the default dtype) also without dtype=."""
    return st.builds(lambda size, kw: call(size, variant="inferred" if not kw else "default", **kw),
                     SIZES, _dtype_kwargs(ctx, "float32"))


def empty_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """empty.memory_format: a size and a memory format its rank allows."""
    return SIZES.flatmap(lambda size: A.memory_formats(len(size)).filter(
        lambda f: f is not torch.preserve_format).map(lambda f: call(
            size, dtype=getattr(torch, ctx.dtype),
            **({} if f is None else {"memory_format": f}), variant=variant(str(f).removeprefix("torch.") if f else None))))


def empty_permuted_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """empty_permuted(size, physical_layout): any permutation of the dims as the layout."""
    return SIZES.flatmap(lambda size: st.permutations(list(range(len(size)))).map(
        lambda order: call(size, order, dtype=getattr(torch, ctx.dtype))))


def empty_strided_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """empty_strided(size, stride): compact, transposed, overlapping (zero) strides."""
    return SIZES.flatmap(lambda size: st.lists(st.integers(0, 6), min_size=len(size), max_size=len(size)).map(
        lambda stride: call(size, stride, dtype=getattr(torch, ctx.dtype))))


def prims_empty_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    return SIZES.map(lambda size: call(size, dtype=getattr(torch, ctx.dtype), device=torch.device("cpu"),
                                       requires_grad=False))


def _range_number(ctx: Ctx, low: int, high: int) -> st.SearchStrategy[int | float]:
    """An int, or for a float dtype also a float: arange's and linspace's scalar arguments."""
    ints = st.integers(low, high)
    if not _is_float(ctx.dtype):
        return ints
    return st.one_of(ints, st.floats(low, high, allow_nan=False, width=16).map(lambda v: round(v, 2)))


def arange_calls(ctx: Ctx, form: str) -> st.SearchStrategy[Call]:
    """arange(end) / (start, end) / (start, end, step): negative and fractional steps, empty
    ranges; the values stay inside the dtype (uint8 non-negative, float16 exact)."""
    low = 0 if ctx.dtype == "uint8" else -20

    @st.composite
    def draw(d):
        start, end = d(_range_number(ctx, low, 40)), d(_range_number(ctx, low, 40))
        kw = d(_dtype_kwargs(ctx, "int64" if isinstance(start, int) and isinstance(end, int) else "float32"))
        label = "inferred" if not kw else None
        if form == "default":
            return call(abs(end), variant=variant(label), **kw)
        if form == "start":  # a positive step: start after end is an error, equal is empty
            start, end = min(start, end), max(start, end)
            return call(start, end, variant=variant(label, "empty" if end == start else None), **kw)
        step = d(st.sampled_from((1, 2, 3, 7, 0.5, 2.5) if _is_float(ctx.dtype) else (1, 2, 3, 7)))
        if end < start:
            step = -step
        return call(start, end, step, variant=variant(label, "negative-step" if step < 0 else None), **kw)
    return draw()


def linspace_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """linspace(start, end, steps): 0, 1 and many steps, decreasing ranges, int dtypes
    (where torch truncates each point)."""
    low = 0 if ctx.dtype == "uint8" else -20
    return st.builds(lambda start, end, steps: call(start, end, steps, dtype=getattr(torch, ctx.dtype),
                                                    variant=variant("steps-" + str(steps) if steps < 2 else None)),
                     _range_number(ctx, low, 40), _range_number(ctx, low, 40), st.sampled_from((0, 1, 2, 5, 17, 50)))


def eye_calls(ctx: Ctx, columns: bool) -> st.SearchStrategy[Call]:
    """eye(n) or eye(n, m): 0 to 6 rows, wide and tall."""
    sides = st.integers(0, 6)
    if columns:
        return st.builds(lambda n, m: call(n, m, dtype=getattr(torch, ctx.dtype),
                                           variant="wide" if m > n else "tall" if m < n else "square"), sides, sides)
    return sides.map(lambda n: call(n, dtype=getattr(torch, ctx.dtype)))


def hamming_calls(ctx: Ctx, form: str) -> st.SearchStrategy[Call]:
    """hamming_window(length[, periodic[, alpha[, beta]]]): lengths 0, 1 and up, both periodic
    values, alpha and beta away from the 0.54/0.46 defaults."""
    @st.composite
    def draw(d):
        args: list = [d(st.sampled_from((0, 1, 2, 5, 16, 33)))]
        if form != "default":
            args.append(d(st.booleans()))
        if form in ("periodic_alpha", "periodic_alpha_beta"):
            args.append(d(st.sampled_from((0.5, 0.54, 0.8, 1.0))))
        if form == "periodic_alpha_beta":
            args.append(d(st.sampled_from((0.1, 0.46, 0.7))))
        label = "periodic" if form != "default" and args[1] else None
        return call(*args, dtype=getattr(torch, ctx.dtype), variant=variant(label, "empty" if not args[0] else None))
    return draw()


def scalar_tensor_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    return fill_values(ctx).map(lambda v: call(v, dtype=getattr(torch, ctx.dtype)))


def _tensor(ctx: Ctx) -> st.SearchStrategy[torch.Tensor]:
    return ctx.tensors(S.movement_shapes(0, 4))


def fill_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """fill(self, value): a value of operand 1's kind (`int32+float32`: a float fill that
    torch truncates into an int tensor)."""
    return st.builds(lambda x, v: call(x, v), _tensor(ctx), fill_values(ctx, operand=1))


def _holding(value: bool | int | float) -> tuple[str, ...]:
    """The dtypes a fill value converts to without overflow (torch refuses the others)."""
    if isinstance(value, bool):
        return ALL
    if isinstance(value, int):
        return tuple(d for d in NUMERIC if d != "uint8" or value >= 0)
    return FLOATS


def like_calls(ctx: Ctx, value: bool = False) -> st.SearchStrategy[Call]:
    """*_like(self[, value]): self's dtype, or another one by dtype= that holds the value; a
    memory format."""
    @st.composite
    def draw(d):
        x = d(_tensor(ctx))
        args = (x, d(fill_values(ctx))) if value else (x,)
        nonfinite = value and isinstance(args[1], float) and not math.isfinite(args[1])
        kw = {}
        if d(st.booleans()) and not (value and ctx.edge):
            kw["dtype"] = d(A.dtype_args(_holding(args[1]) if value else ALL))
        fmt = d(A.memory_formats(x.dim()))
        if fmt is not None:
            kw["memory_format"] = fmt
        label = None
        if "dtype" in kw:
            label = "to-" + str(kw["dtype"]).removeprefix("torch.") + ("-same" if kw["dtype"] == x.dtype else "")
        return call(*args, variant=variant(label, "nonfinite" if nonfinite else None), **kw)
    return draw()


def new_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """new_ones/new_zeros(self, size): self's dtype or another by dtype=; size unrelated to self."""
    @st.composite
    def draw(d):
        x, size = d(_tensor(ctx)), d(SIZES)
        if d(st.booleans()):
            target = d(A.dtype_args())
            same = "-same" if target == x.dtype else ""
            return call(x, size, dtype=target, variant="to-" + str(target).removeprefix("torch.") + same)
        return call(x, size)
    return draw()


def sparse_mm_calls(ctx: Ctx, bias: bool) -> st.SearchStrategy[Call]:
    """_sparse_mm(a, b) / _sparse_addmm(c, a, b, beta, alpha) on strided operands (eager
    accepts them; a sparse input cannot reach TVM, which takes dense arrays), empty inner
    dimension included."""
    @st.composite
    def draw(d):
        n, k, m = d(st.integers(1, 5)), d(st.integers(0, 5)), d(st.integers(1, 5))
        a, b = d(ctx.tensors((n, k), "small")), d(ctx.tensors((k, m), "small"))
        if not bias:
            return call(a, b)
        c = d(ctx.tensors(d(st.sampled_from(((n, m), (m,), (1, m)))), "small"))
        scales = d(st.sampled_from(({}, {"beta": 0.5}, {"alpha": 2.0}, {"beta": 0.0, "alpha": -1.5})))
        return call(c, a, b, variant=variant(*sorted(scales)), **scales)
    return draw()


ALL_DT = dtypes_for("full")
RANGE_DT = dtypes_for("arange")
WINDOW_DT = ("float32", "float64", "float16", "bfloat16")
# fill into another dtype: self's dtype + the fill value's kind.
FILL_MIXED = ("int32+float32", "float16+int64", "bool+int64")

# Why the normal tier of a row keeps draws whose reference is degenerate (opsuite.generate):
# a fill, zeros or ones is constant by definition. The sized rows (arange, eye, linspace,
# _sparse_mm) keep their zero lengths (an empty range, eye(0), linspace with 0 steps, an empty
# inner dimension) in their edge tier; hamming_window keeps its lengths 0 and 1 in its only
# tier, as its float16 and bfloat16 cases are named by the rounding entry
# creation.hamming_window-3, which some replacement draws (alpha=1.0) do not show.
_CONSTANT = {"*": "the output is constant by definition"}
_WINDOW = {"*": "window lengths 0 and 1 are variants of this row, which has no edge tier"}


ROWS = [
    OpRow("aten.arange.default", lambda ctx: arange_calls(ctx, "default"), RANGE_DT, decompose=False),
    OpRow("aten.arange.start", lambda ctx: arange_calls(ctx, "start"), RANGE_DT, decompose=False),
    OpRow("aten.arange.start_step", lambda ctx: arange_calls(ctx, "start_step"), RANGE_DT),
    OpRow("aten.full.default", full_calls, dtypes_for("full"), degenerate=_CONSTANT),
    OpRow("aten.zeros.default", sized_calls, dtypes_for("zeros"), edge=False, decompose=False, degenerate=_CONSTANT),
    OpRow("aten.ones.default", sized_calls, dtypes_for("ones"), edge=False, decompose=False, degenerate=_CONSTANT),
    OpRow("aten.empty.memory_format", empty_calls, dtypes_for("empty"), edge=False, check=P.structure_only),
    OpRow("aten.empty_like.default", like_calls, dtypes_for("empty_like"), edge=False, check=P.structure_only,
          decompose=False),
    OpRow("aten.empty_permuted.default", empty_permuted_calls, dtypes_for("empty_permuted"), edge=False,
          check=P.structure_only),
    OpRow("aten.empty_strided.default", empty_strided_calls, dtypes_for("empty_strided"), edge=False,
          check=P.structure_only),
    OpRow("prims.empty.default", prims_empty_calls, ALL_DT, edge=False, check=P.structure_only),
    OpRow("aten.eye.default", lambda ctx: eye_calls(ctx, False), dtypes_for("eye")),
    OpRow("aten.eye.default", lambda ctx: eye_calls(ctx, False), dtypes_for("eye"), decompose=False,
          label="nodecomp"),
    OpRow("aten.eye.m", lambda ctx: eye_calls(ctx, True), dtypes_for("eye")),
    OpRow("aten.eye.m", lambda ctx: eye_calls(ctx, True), dtypes_for("eye"), decompose=False,
          label="nodecomp"),
    OpRow("aten.linspace.default", linspace_calls, dtypes_for("linspace")),
    OpRow("aten.linspace.default", linspace_calls, dtypes_for("linspace"), decompose=False,
          label="nodecomp"),
    OpRow("aten.hamming_window.default", lambda ctx: hamming_calls(ctx, "default"), WINDOW_DT, edge=False,
          degenerate=_WINDOW),
    OpRow("aten.hamming_window.periodic", lambda ctx: hamming_calls(ctx, "periodic"), WINDOW_DT, edge=False,
          degenerate=_WINDOW),
    OpRow("aten.hamming_window.periodic_alpha", lambda ctx: hamming_calls(ctx, "periodic_alpha"), WINDOW_DT,
          edge=False, degenerate=_WINDOW),
    OpRow("aten.hamming_window.periodic_alpha_beta", lambda ctx: hamming_calls(ctx, "periodic_alpha_beta"),
          WINDOW_DT, edge=False, degenerate=_WINDOW),
    OpRow("aten.scalar_tensor.default", scalar_tensor_calls, dtypes_for("scalar_tensor")),
    # Fills decompose into full_like: their converters are reached only undecomposed.
    OpRow("aten.fill.Scalar", fill_calls, dtypes_for("fill") + FILL_MIXED, decompose=False, degenerate=_CONSTANT),
    OpRow("aten.fill_.Scalar", fill_calls, dtypes_for("fill") + FILL_MIXED, decompose=False, degenerate=_CONSTANT),
    OpRow("aten.zero_.default", lambda ctx: _tensor(ctx).map(lambda x: call(x)), dtypes_for("zero_"),
          decompose=False, degenerate=_CONSTANT),
    OpRow("aten.new_ones.default", new_calls, dtypes_for("new_ones"), edge=False, decompose=False, degenerate=_CONSTANT),
    OpRow("aten.new_zeros.default", new_calls, dtypes_for("new_zeros"), edge=False, decompose=False, degenerate=_CONSTANT),
    OpRow("aten.full_like.default", lambda ctx: like_calls(ctx, value=True), dtypes_for("full_like"), degenerate=_CONSTANT),
    OpRow("aten.ones_like.default", like_calls, dtypes_for("ones_like"), edge=False, decompose=False, degenerate=_CONSTANT),
    OpRow("aten.zeros_like.default", like_calls, dtypes_for("zeros_like"), edge=False, decompose=False, degenerate=_CONSTANT),
    # _sparse_mm decomposes into _sparse_addmm; its own converter is reached only undecomposed.
    OpRow("aten._sparse_mm.default", lambda ctx: sparse_mm_calls(ctx, False), FLOATS,
          decompose=False),
    OpRow("aten._sparse_addmm.default", lambda ctx: sparse_mm_calls(ctx, True), FLOATS),
]

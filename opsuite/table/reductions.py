"""Reductions, scans and orderings: sum, mean, prod, max/min, arg-reductions, any, std/var,
vector norms, cumsum/cumprod, sort/argsort/topk, median.

One generator, `reduce`, covers the reduction signatures (no dim, an int dim, a dim list,
keepdim omitted/False/True, an out-of-default `dtype=`); the variant label names the
arguments a case passes, so an expectation can be scoped with `when = "variant:..."`.
Orderings (sort, argsort, topk, median.dim) draw pairwise-distinct values: with ties the
returned indices are implementation-defined and a difference would prove nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import torch
from hypothesis import strategies as st

from harness.case import Tolerance
from opsuite.draw import shapes as S
from opsuite.draw import values as V
from opsuite.draw.context import Call, Ctx, Generator, call
from opsuite.draw.distinct import distinct_tensors
from opsuite.draw.values import torch_dtype
from opsuite.standalone.order_properties import topk_unsorted
from opsuite.table.row import OpRow, dtypes_for

Dtypes = Callable[[str], tuple[torch.dtype, ...]]


def float_out(dtype: str) -> tuple[torch.dtype, ...]:
    """dtype= choices for a float reduction that differ from its default result dtype."""
    return tuple(d for d in (torch.float64, torch.float32) if d != torch_dtype(dtype))


def any_out(dtype: str) -> tuple[torch.dtype, ...]:
    """dtype= choices for ops that also take integers (sum, prod, cumsum), whose integer default
    result is int64: a narrower int and a float, so the argument always changes the result."""
    if torch_dtype(dtype).is_floating_point:
        return float_out(dtype)
    return (torch.int32, torch.float32)


def _mostly_zero(ctx: Ctx, shape: st.SearchStrategy) -> st.SearchStrategy[torch.Tensor]:
    """Tensors with about one element in eight nonzero, so `any` is True for some slices only."""
    @st.composite
    def draw(d):
        x = d(ctx.tensors(shape))
        keep = torch.ones(x.shape, dtype=torch.bool)
        for _ in range(3):
            keep &= d(V.tensors("bool", x.shape, layouts=("contiguous",)))
        return x.masked_fill_(~keep, 0)  # in place: keeps the drawn layout

    return draw()


_VALUES = {"mostly_zero": _mostly_zero, "distinct": distinct_tensors}


def reduce(dim: str = "none", keepdim: str = "", out_dtypes: Dtypes | None = None,
           domain: str = "real", nonempty: str = "", max_rank: int = 4, max_side: int = 4,
           max_numel: int | None = None, min_side: int = 1, between: Mapping[str, st.SearchStrategy] | None = None,
           **extra: st.SearchStrategy) -> Generator:
    """Calls of a reduction `op(x[, dim][, *between][, keepdim], **extra[, dtype=])`.

    dim: "none" (no dim argument), "int", "optional_int" (an int or None), "list" (a dim list,
    [] meaning every dim), "optional_list" (a list or None). keepdim: "" (no such argument),
    "positional" (omitted, False or True), "keyword" (omitted or keepdim=True). nonempty: "all"
    (the op rejects empty inputs), "dim" (it rejects an empty reduced dim). domain: a
    values.DOMAINS name, or "mostly_zero" / "distinct". between: positional arguments between
    dim and keepdim (var.dim's unbiased), always passed. min_side: the smallest nonzero side
    (2 keeps std/var away from the single-sample NaN most of the time). extra: keyword-only arguments, passed
    when the strategy draws a value other than None.
    """
    if dim not in ("none", "int", "optional_int", "list", "optional_list"):
        raise ValueError(f"unknown dim kind {dim!r}")
    if keepdim not in ("", "positional", "keyword"):
        raise ValueError(f"unknown keepdim kind {keepdim!r}")
    if nonempty not in ("", "all", "dim"):
        raise ValueError(f"unknown nonempty kind {nonempty!r}")
    between = dict(between or {})

    def calls(ctx: Ctx):
        @st.composite
        def draw(d):
            shape, axis = d(_shape_and_axis(dim, nonempty, max_rank, max_side, max_numel, min_side))
            label: list[str] = []
            args: list = []
            kwargs: dict = {}
            if dim != "none":
                args.append(axis)
                label.append("dim" if axis not in (None, []) else ("dimnone" if axis is None else "dimall"))
            for name, strategy in between.items():
                value = d(strategy)
                args.append(value)
                label.append(f"{name}{value}")
            if keepdim:
                kd = d(st.sampled_from((None, False, True) if keepdim == "positional" else (None, True)))
                if kd is not None:
                    if keepdim == "positional":
                        args.append(kd)
                    else:
                        kwargs["keepdim"] = kd
                    label.append("keepdim" if kd else "nokeepdim")
            for name, strategy in extra.items():
                value = d(strategy)
                if value is not None:
                    kwargs[name] = value
                    label.append(f"{name}{value}")
            if out_dtypes is not None:
                out = d(st.one_of(st.none(), st.sampled_from(out_dtypes(ctx.dtype))))
                if out is not None:
                    kwargs["dtype"] = out
                    label.append("dtype")
            values = _VALUES[domain](ctx, st.just(shape)) if domain in _VALUES else ctx.tensors(shape, domain)
            return call(d(values), *args, variant="-".join(label) or "default", **kwargs)

        return draw()

    return calls


def _shape_and_axis(dim: str, nonempty: str, max_rank: int, max_side: int, max_numel: int | None,
                    min_side: int):
    """A shape and the dim argument of kind `dim`; sides the op must not see empty are made >= 1."""
    @st.composite
    def draw(d):
        shape = list(d(S.layer_shapes(1 if dim in ("list", "optional_list") else 0, max_rank, max_side,
                                nonempty != "all", max_numel, min_side)))
        rank = len(shape)
        axis = None
        if dim in ("int", "optional_int"):
            axis = d(S.dims(rank))
            if dim == "optional_int" and d(st.booleans()):
                axis = None
        elif dim in ("list", "optional_list"):
            dims = d(S.dim_lists(rank))
            axis = d(st.sampled_from((dims, [], None) if dim == "optional_list" else (dims, [])))
        if nonempty == "dim" and rank:
            reduced = range(rank) if axis in (None, []) else ([axis] if isinstance(axis, int) else axis)
            for r in reduced:
                shape[r] = max(shape[r], 1)
        return tuple(shape), axis

    return draw()


def norm_out(dtype: str) -> tuple[torch.dtype, ...]:
    """dtype= choices linalg_vector_norm accepts: the input's own or a wider float."""
    return {"float16": (torch.float32, torch.float64), "bfloat16": (torch.float32,),
            "float32": (torch.float64,)}.get(dtype, ())  # float64 has no wider one


ORD = st.sampled_from((2, 1, 0, math.inf, -math.inf, 3, 0.5, -1))


def vector_norm(ctx: Ctx) -> st.SearchStrategy[Call]:
    """linalg_vector_norm(x, ord, dim, keepdim, dtype=): every ord kind (0 counts nonzeros,
    +-inf is max/min of |x|, negative and fractional ords), dim as None, an int or a list."""
    @st.composite
    def draw(d):
        shape, dims = d(S.shape_and_dims(1, 4, 4))
        dim = d(st.sampled_from((None, dims, dims[0])))
        order = d(ORD)
        keepdim = d(st.booleans())
        if order == -math.inf or order < 0:  # undefined on an empty slice
            shape = tuple(max(s, 1) for s in shape)
        wider = norm_out(ctx.dtype)
        kwargs = {"dtype": d(st.sampled_from(wider))} if wider and d(st.booleans()) else {}
        label = [f"ord{order}", "dim" if dim is not None else "", "keepdim" if keepdim else "",
                 "dtype" if kwargs else ""]
        return call(d(ctx.tensors(shape)), order, dim, keepdim, variant="-".join(p for p in label if p), **kwargs)

    return draw()


def _count(n: int) -> st.SearchStrategy[int]:
    """A count in [1, n], and 0 about one draw in ten."""
    return S.sides(n) if n else st.just(0)


def topk(sorted_: bool) -> Generator:
    """topk(x, k, dim, largest, sorted) over distinct values, k from 0 to the dim's size.

    Unsorted calls select along the last dim: the check that judges them (the right elements
    in any order) needs to know the dim.
    """
    def calls(ctx: Ctx):
        @st.composite
        def draw(d):
            shape, dim = d(S.shape_and_dim(0, 4, 3))
            if not sorted_:
                dim = -1
            shape = list(shape)
            if shape:
                shape[dim] = max(shape[dim], 1)
            k = d(_count(shape[dim] if shape else 1))
            largest = d(st.booleans())
            x = d(distinct_tensors(ctx, st.just(tuple(shape))))
            label = ("largest" if largest else "smallest") + ("-k0" if k == 0 else "")
            return call(x, k, dim, largest, sorted_, variant=label)

        return draw()

    return calls


def sort(ctx: Ctx) -> st.SearchStrategy[Call]:
    """sort/argsort(x[, dim[, descending]]) over distinct values, trailing arguments omitted or given."""
    @st.composite
    def draw(d):
        shape, dim = d(S.shape_and_dim(0, 4, 3))
        x = d(distinct_tensors(ctx, st.just(shape)))
        form = d(st.sampled_from(("dim", "default", "descending", "ascending")))
        if form == "default":
            return call(x, variant="nodim")
        if form == "dim":
            return call(x, dim, variant="dim")
        return call(x, dim, form == "descending", variant=form)

    return draw()


# Ties are real for max/min/argmax/argmin: torch documents that the first maximal (minimal)
# index is returned, so those rows keep the plain (tie-rich) values on purpose.
CORRECTION = st.sampled_from((None, 0, 1, 2, 1.5))
NO_BOOL = ("float32", "float16", "bfloat16", "float64", "int32", "int64", "int8", "uint8")

_HALF_TOLERANCES: Mapping[str, Tolerance] = {
    "float16": Tolerance(5e-2, 5e-2, "float16 reductions of up to ~80 terms: eager accumulates in "
                         "float32 and rounds once, a compiled reduction may round as it goes"),
    "bfloat16": Tolerance(1e-1, 1e-1, "bfloat16 reductions of up to ~80 terms: eager accumulates in "
                          "float32 and rounds once, a compiled reduction may round as it goes"),
}

# Rows with decompose=False: run_decompositions rewrites these overloads (sum.default into
# sum.dim_IntList, std.correction into var.correction and sqrt, linalg_vector_norm into
# abs/pow/sum, argsort into sort), so only then does the importer's own converter run.
ROWS = [
    OpRow("aten.sum.default", reduce(out_dtypes=any_out, max_rank=5, max_side=3), dtypes_for("sum"),
          tolerances=_HALF_TOLERANCES, decompose=False),
    OpRow("aten.sum.dim_IntList", reduce("optional_list", "positional", any_out, max_rank=5, max_side=3),
          dtypes_for("sum"), tolerances=_HALF_TOLERANCES),
    OpRow("aten.mean.default", reduce(out_dtypes=float_out, max_rank=5, max_side=3), dtypes_for("mean"),
          tolerances=_HALF_TOLERANCES),
    OpRow("aten.mean.dim", reduce("optional_list", "positional", float_out, max_rank=5, max_side=3),
          dtypes_for("mean"), tolerances=_HALF_TOLERANCES),
    # Nonzero factors, at most 12 of them: a product that neither vanishes nor overflows float16.
    OpRow("aten.prod.default", reduce(out_dtypes=any_out, domain="nonzero", max_numel=12), dtypes_for("prod"),
          tolerances=_HALF_TOLERANCES),
    OpRow("aten.prod.dim_int", reduce("int", "positional", any_out, domain="nonzero"), dtypes_for("prod"),
          tolerances=_HALF_TOLERANCES),
    OpRow("aten.max.default", reduce(nonempty="all"), dtypes_for("max")),
    OpRow("aten.min.default", reduce(nonempty="all"), dtypes_for("min")),
    OpRow("aten.max.dim", reduce("int", "positional", nonempty="dim"), dtypes_for("max")),
    OpRow("aten.min.dim", reduce("int", "positional", nonempty="dim"), dtypes_for("min")),
    OpRow("aten.amax.default", reduce("list", "positional", nonempty="dim"), dtypes_for("amax")),
    OpRow("aten.amin.default", reduce("list", "positional", nonempty="dim"), dtypes_for("amin")),
    OpRow("aten.argmax.default", reduce("optional_int", "positional", nonempty="dim"), dtypes_for("argmax")),
    OpRow("aten.argmin.default", reduce("optional_int", "positional", nonempty="dim"), dtypes_for("argmin")),
    OpRow("aten.any.default", reduce(domain="mostly_zero"), dtypes_for("any")),
    OpRow("aten.any.dim", reduce("int", "positional", domain="mostly_zero"), dtypes_for("any")),
    OpRow("aten.any.dims", reduce("optional_list", "positional", domain="mostly_zero"), dtypes_for("any")),
    # Default tolerances for std: TVM's half std matches eager closely, and a wider tolerance
    # would hide the few-percent error of an ignored correction.
    OpRow("aten.std.correction", reduce("optional_list", "keyword", min_side=2, correction=CORRECTION),
          dtypes_for("std"), decompose=False),
    OpRow("aten.var.correction", reduce("optional_list", "keyword", min_side=2, correction=CORRECTION),
          dtypes_for("var"), tolerances=_HALF_TOLERANCES),
    OpRow("aten.var.dim", reduce("optional_list", "positional", min_side=2, between={"unbiased": st.booleans()}),
          dtypes_for("var"), tolerances=_HALF_TOLERANCES),
    OpRow("aten.linalg_vector_norm.default", vector_norm, dtypes_for("linalg.vector_norm"),
          tolerances=_HALF_TOLERANCES, decompose=False),
    OpRow("aten.cumsum.default", reduce("int", out_dtypes=any_out), dtypes_for("cumsum"),
          tolerances=_HALF_TOLERANCES),
    OpRow("aten.cumprod.default", reduce("int", out_dtypes=any_out, domain="nonzero"), dtypes_for("cumprod"),
          tolerances=_HALF_TOLERANCES),
    # Bool has two values, so a bool sort always has ties and its indices prove nothing.
    OpRow("aten.sort.default", sort, NO_BOOL),
    OpRow("aten.argsort.default", sort, NO_BOOL, decompose=False),
    OpRow("aten.topk.default", topk(sorted_=True), dtypes_for("topk")),
    OpRow("aten.topk.default", topk(sorted_=False), dtypes_for("topk"), check=topk_unsorted, label="unsorted"),
    OpRow("aten.median.default", reduce(nonempty="all"), dtypes_for("median")),
    # No edge tier for median.dim: over slices of 1-3 distinct values, whether TVM's NaN-blind
    # median differs depends on where the one NaN lands; median.default's edge tier shows that bug.
    OpRow("aten.median.dim", reduce("int", "positional", domain="distinct", nonempty="dim", max_side=3),
          dtypes_for("median"), edge=False),
]

"""Call generators shared by the elementwise table modules (pointwise, activations, comparison).

Not a table module itself (it has no ROWS): each function returns a `Generator`, a function
from a `Ctx` to a strategy of `Call`s, like the shared ones in opsuite/rows.py, with the
extra control elementwise ops need: keyword arguments named in the variant, operands that
are 0-dim next to dimensioned ones (PyTorch's promotion treats them apart), scalars with an
edge tier of their own, divisors that keep eager PyTorch from trapping, and value
transforms that make ties, zeros and exact halves common.

    OpRow("aten.elu.default", unary_with(alpha=st.sampled_from([None, 0.5])), FLOATS)
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import torch
from hypothesis import strategies as st

from opsuite import strategies as S
from opsuite.rows import Call, Ctx, Generator, OpRow, call
from opsuite.values import make_tensor

Transform = Callable[[torch.Tensor], torch.Tensor]

# Scalars the edge tier adds to the usual small ones. PyTorch wraps integer scalars into the
# tensor's dtype (uint8 + 300 wraps), where a converter building a typed constant may refuse
# or saturate; float scalars overflow half types to inf.
_EDGE_FLOAT_SCALARS = (float("nan"), float("inf"), float("-inf"), -0.0, 0.0, 1e30, -1e30, 1e-30)
_EDGE_INT_SCALARS = (0, -1, 300, -129, 2**31 - 1, -(2**31), 2**40)


def is_float(dtype: str) -> bool:
    return torch.empty((), dtype=getattr(torch, dtype)).is_floating_point()


def is_int(dtype: str) -> bool:
    return dtype != "bool" and not is_float(dtype)


# ------------------------------------------------------------------------------ shapes
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
    return st.sampled_from(ranks).flatmap(lambda r: st.tuples(*[st.sampled_from(_SIDES)] * r))


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


# ------------------------------------------------------------------------ value transforms
# In place on purpose: a non-contiguous tensor stays the same view of its storage.


def halves(t: torch.Tensor) -> torch.Tensor:
    """Floats rounded to multiples of 0.5: exact ties for round-half-to-even and equal elements.

    >>> halves(torch.tensor([0.3, 1.2, -2.6]))
    tensor([ 0.5000,  1.0000, -2.5000])
    """
    if t.is_floating_point():
        t.mul_(2).round_().div_(2)
    return t


def coarse(t: torch.Tensor) -> torch.Tensor:
    """Few distinct values, so two operands meet equal elements often: floats become halves in
    about [-1, 1], integers are floor-divided by 4.

    >>> coarse(torch.tensor([0.3, 1.2, -2.6]))
    tensor([ 0.0000,  0.5000, -1.5000])
    """
    if t.is_floating_point():
        t.mul_(0.5).round_().mul_(0.5)
    elif t.dtype != torch.bool:
        t.floor_divide_(4)
    return t


def specials_often(t: torch.Tensor) -> torch.Tensor:
    """Floats with NaN, +inf and -inf in about a fifth of the elements each (isnan, isinf and
    isfinite answer all-False or all-True on ordinary values)."""
    if t.is_floating_point():
        big, small = t > 1.2, t < -1.2
        middle = (t > 0.5) & ~big
        t[big], t[small], t[middle] = float("nan"), float("inf"), float("-inf")
    return t


def zeros_often(t: torch.Tensor) -> torch.Tensor:
    """About half the elements set to zero (logical ops need both truth values).

    >>> zeros_often(torch.tensor([0.5, 3.0, -4.0, 1.1]))
    tensor([ 0.,  3., -4.,  0.])
    """
    if t.dtype != torch.bool and t.numel():
        small = t.abs() < 1.2 if t.is_floating_point() else t.abs() < 5 if t.dtype != torch.uint8 else t < 5
        t[small] = 0
    return t


# ------------------------------------------------------------------------------ scalars


def scalar_values(ctx: Ctx, low: float = -3.0, high: float = 3.0, operand: int = 1,
                  nonzero: bool = False, divisor: bool = False, ties: bool = False,
                  extremes: bool = True, choices: tuple[int, ...] | None = None) -> st.SearchStrategy:
    """A Python scalar for operand `operand` of `ctx`; the edge tier adds extreme scalars.

    `nonzero` keeps zero out of the normal tier only (the edge tier divides by +-0 on
    purpose). `divisor` is for integer division: no integer zero in any tier (eager raises
    ZeroDivisionError), no +-1 in the normal tier (every remainder would be 0), and no -1 in
    the edge tier, where the dividend may hold the dtype's minimum and eager PyTorch traps
    (SIGFPE) on MIN / -1. `ties` rounds float scalars to
    halves so comparisons meet equal elements. `extremes=False` keeps the edge tier's
    scalars in range, for ops where eager refuses an out-of-range scalar (clamp of uint8).
    `choices` replaces the low..high range for integer scalars (bit patterns).

    >>> scalar_values(Ctx("int32", edge=True)).example()  # doctest: +SKIP
    300
    """
    if low > high:
        raise ValueError(f"low {low} > high {high}")
    dtype = ctx.part(operand)
    strategy = ctx.scalars(low, high, operand=operand)
    if choices is not None and is_int(dtype):
        strategy = st.sampled_from(choices)
    if ties and is_float(dtype):
        strategy = strategy.map(lambda v: round(v * 2) / 2)
    if nonzero or divisor:
        strategy = strategy.filter(lambda v: v != 0)
    if divisor and not is_float(dtype):
        strategy = strategy.filter(lambda v: abs(v) > 1)
    if ctx.edge and dtype != "bool" and extremes:
        edges = _EDGE_FLOAT_SCALARS if is_float(dtype) else _EDGE_INT_SCALARS
        if divisor and not is_float(dtype):
            edges = tuple(v for v in edges if v not in (0, -1))
        strategy = st.one_of(strategy, st.sampled_from(edges))
    return strategy


def _alpha(result: torch.dtype) -> st.SearchStrategy:
    """An `alpha` PyTorch accepts for a result dtype: none, or a non-unit int or float."""
    if result == torch.bool:
        return st.sampled_from([None, True])
    if result.is_floating_point:
        return st.sampled_from([None, 2, -1, 0.5, -1.5])
    return st.sampled_from([None, 2, -1, 3])


def _scalable(*values) -> bool:
    """Whether an alpha scaling any of `values` could show in the answer: each holds a finite
    nonzero element. Alpha times zeros, infinities or an empty tensor is the same as no alpha,
    so such a case would claim to test alpha and test nothing about it."""
    return all(bool((torch.as_tensor(v).isfinite() & (torch.as_tensor(v) != 0)).any()) for v in values)


def _named(kwargs: dict) -> str:
    """The variant for explicit keyword arguments: names, and the value of string arguments."""
    return "-".join(f"{k}={v}" if isinstance(v, str) else k for k, v in sorted(kwargs.items()))


def _given(draw, args: dict[str, st.SearchStrategy]) -> dict:
    drawn = {name: draw(strategy) for name, strategy in args.items()}
    return {name: value for name, value in drawn.items() if value is not None}


# ------------------------------------------------------------------------------- unary


def unary_with(domain: str = "real", int_domain: str | None = None, transform: Transform | None = None,
               max_rank: int = 5, **args: st.SearchStrategy) -> Generator:
    """One tensor plus keyword arguments drawn from `args`; a drawn None leaves one at its default.

    `int_domain` replaces `domain` for integer and bool inputs (acos of ints wants 0 and 1,
    not -9..9).

    >>> unary_with("real", approximate=st.sampled_from([None, "tanh"]))  # doctest: +SKIP
    """
    def calls(ctx: Ctx) -> st.SearchStrategy[Call]:
        @st.composite
        def draw(d):
            dtype = ctx.part(0)
            dom = int_domain if int_domain and not is_float(dtype) else domain
            high = 2 if dom == "index" else None
            x = d(S.tensors(dtype, element_shapes(max_rank), dom, edge=ctx.edge, high=high))
            if transform is not None:
                x = transform(x)
            kwargs = _given(d, args)
            return call(x, variant=_named(kwargs) or "default", **kwargs)
        return draw()
    return calls


# ------------------------------------------------------------------------------ binary


def _shape_variant(sa: tuple, sb: tuple) -> str:
    if (len(sa) == 0) != (len(sb) == 0):
        return "zerodim"
    return "same" if sa == sb else "broadcast"


def operand(ctx: Ctx, index: int, shape, domain: str = "real", edge: bool | None = None,
            high: int | None = None, position: int | None = None) -> st.SearchStrategy[torch.Tensor]:
    """The tensor for operand `index` of `ctx` (its part of an `a+b` dtype), in the ctx's tier.

    Like `strategies.tensors`, but the value seed is offset by the operand's `position`
    (default `index`): operands drawn alike, as in every minimal example where each draws seed
    0, still hold different values (x - x, x == x and x ^ x would be degenerate references).
    """
    dtype = ctx.part(index)
    if domain == "index" and high is None:
        high = 2
    salt = 7919 * (index if position is None else position)
    return st.builds(
        lambda seed, layout: make_tensor(shape, dtype, domain, seed=seed + salt,
                                         edge=ctx.edge if edge is None else edge, high=high, layout=layout),
        st.integers(0, 2**16), st.sampled_from(S.LAYOUTS))


def _safe_divisor(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Integer divisors of -1 become -2 where the dividend may be the dtype's minimum (MIN / -1 traps)."""
    if not b.is_floating_point() and b.dtype != torch.bool and not a.is_floating_point():
        b[b == -1] = -2
    return b


def pair(domain: str = "real", rhs_domain: str | None = None, transform: Transform | None = None,
         divisor: bool = False, alpha: bool = False, **args: st.SearchStrategy) -> Generator:
    """Two broadcastable tensors (`a+b` dtypes give each its own), plus keyword arguments.

    `divisor`: the right operand of an integer division is nonzero and kept out of the edge
    tier (eager raises ZeroDivisionError, or traps on MIN / -1); float divisors keep the edge
    tier, where dividing by +-0 is the point. `alpha` draws an alpha valid for the result dtype.

    >>> pair("real", alpha=True)(Ctx("int32+float16")).example()  # doctest: +SKIP
    """
    def calls(ctx: Ctx) -> st.SearchStrategy[Call]:
        @st.composite
        def draw(d):
            sa, sb = d(broadcast_pair(mixed="+" in ctx.dtype))
            a = d(operand(ctx, 0, sa, domain))
            rhs_int = not is_float(ctx.part(1))
            if divisor and rhs_int:
                b = _safe_divisor(a, d(operand(ctx, 1, sb, "nonzero", edge=False)))
            else:
                b = d(operand(ctx, 1, sb, rhs_domain or domain))
            if transform is not None:
                a, b = transform(a), transform(b)
            kwargs = _given(d, args)
            if alpha and _scalable(a, b) and (value := d(_alpha(torch.result_type(a, b)))) is not None:
                kwargs["alpha"] = value
            named = _named(kwargs)
            return call(a, b, variant=_shape_variant(sa, sb) + ("-" + named if named else ""), **kwargs)
        return draw()
    return calls


def tensor_scalar(domain: str = "real", low: float = -3.0, high: float = 3.0, nonzero: bool = False,
                  divisor: bool = False, ties: bool = False, extremes: bool = True,
                  choices: tuple[int, ...] | None = None, transform: Transform | None = None, alpha: bool = False,
                  scalar_first: bool = False, **args: st.SearchStrategy) -> Generator:
    """A tensor and a Python scalar (`.Scalar` overloads); `a+b` makes the scalar of kind `b`.

    `scalar_first` puts the scalar first (pow.Scalar); `nonzero`, `divisor`, `extremes` and
    `choices` as in `scalar_values`; `ties` also takes the scalar from the tensor's own
    elements half the time, so comparisons meet equal elements; `alpha` draws an alpha
    valid for the result dtype.

    >>> tensor_scalar("positive", divisor=True)(Ctx("int32+float32")).example()  # doctest: +SKIP
    """
    def calls(ctx: Ctx) -> st.SearchStrategy[Call]:
        @st.composite
        def draw(d):
            x = d(ctx.tensors(element_shapes(), domain, operand=0))
            if transform is not None:
                x = transform(x)
            s = d(scalar_values(ctx, low, high, nonzero=nonzero, divisor=divisor, ties=ties, extremes=extremes,
                                choices=choices))
            if ties and x.numel() and d(st.booleans()):
                s = _element_as(x, d(st.integers(0, x.numel() - 1)), ctx.part(1), s)
            kwargs = _given(d, args)
            if alpha and _scalable(x, s) and (value := d(_alpha(torch.result_type(x, s)))) is not None:
                kwargs["alpha"] = value
            kind = type(s).__name__
            named = _named(kwargs)
            variant = f"{kind}" + ("-" + named if named else "")
            return call(s, x, variant=variant, **kwargs) if scalar_first else call(x, s, variant=variant, **kwargs)
        return draw()
    return calls


def _element_as(x: torch.Tensor, index: int, kind: str, fallback):
    """Element `index` of `x` as a Python scalar of dtype kind `kind`; `fallback` when it has none
    (NaN or infinity as an integer)."""
    value = x.reshape(-1)[index].item()
    if kind == "bool":
        return bool(value)
    if is_float(kind):
        return float(value)
    return int(value) if math.isfinite(value) else fallback


def inplace_pair(domain: str = "real", transform: Transform | None = None, alpha: bool = False) -> Generator:
    """`self` and `other` for an in-place binary op: `other` broadcasts to `self`'s shape, never
    the other way round, and a mixed `a+b` keeps `self`'s dtype as PyTorch requires."""
    def calls(ctx: Ctx) -> st.SearchStrategy[Call]:
        @st.composite
        def draw(d):
            sa, sb = d(broadcast_pair())
            full = tuple(torch.broadcast_shapes(sa, sb))
            other_shape = sb if full == tuple(sa) else sa
            a = d(operand(ctx, 0, full, domain))
            b = d(operand(ctx, 1, other_shape, domain))
            if transform is not None:
                a, b = transform(a), transform(b)
            kwargs = {}
            if alpha and _scalable(a, b) and (value := d(_alpha(a.dtype))) is not None:
                kwargs["alpha"] = value
            named = _named(kwargs)
            return call(a, b, variant=_shape_variant(full, other_shape) + ("-" + named if named else ""),
                        **kwargs)
        return draw()
    return calls


def inplace_tensor_scalar(domain: str = "real") -> Generator:
    """`self` and a scalar of `self`'s own kind, for in-place `.Scalar` overloads."""
    def calls(ctx: Ctx) -> st.SearchStrategy[Call]:
        return st.builds(lambda x, s: call(x, s, variant=type(s).__name__),
                         ctx.tensors(element_shapes(), domain), scalar_values(ctx, operand=0))
    return calls


# ------------------------------------------------------------------- three operands


def where_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """where(condition, self, other): a bool condition and two values, all three broadcasting;
    `a+b` gives `self` and `other` different dtypes (where promotes them)."""
    @st.composite
    def draw(d):
        sc, sa, sb = d(broadcast_triple())
        cond = d(S.tensors("bool", sc))
        a = d(operand(ctx, 0, sa, "real"))
        b = d(operand(ctx, 1, sb, "real"))
        same = sc == sa == sb
        return call(cond, a, b, variant="same" if same else "broadcast")
    return draw()


def clamp_scalar_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """clamp(self, min, max) with scalar bounds: min only, max only, both, or min > max (then
    PyTorch answers max everywhere); `a+b` makes the bounds of kind `b`."""
    @st.composite
    def draw(d):
        x = d(ctx.tensors(element_shapes(), "real", operand=0))
        lo, hi = sorted([d(scalar_values(ctx, -4, 4, extremes=False)) for _ in range(2)])
        which = d(st.sampled_from(["min", "max", "both", "crossed"]))
        if which == "min":
            return call(x, lo, variant="min")
        if which == "max":
            return call(x, None, hi, variant="max")
        if which == "crossed":
            lo, hi = hi, lo
        return call(x, lo, hi, variant=which)
    return draw()


def clamp_tensor_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """clamp(self, min, max) with tensor bounds that broadcast against `self`; one may be None."""
    @st.composite
    def draw(d):
        shapes = d(broadcast_triple())
        sx = tuple(torch.broadcast_shapes(*shapes))
        x = d(operand(ctx, 0, sx, "real"))
        lo = d(operand(ctx, 1, shapes[1], "real"))
        hi = d(operand(ctx, 1, shapes[2], "real", position=2))
        which = d(st.sampled_from(["min", "max", "both"]))
        if which == "min":
            return call(x, lo, None, variant="min")
        if which == "max":
            return call(x, None, hi, variant="max")
        return call(x, lo, hi, variant="both")
    return draw()


# ------------------------------------------------------------------------------- rows


def decomposed_twin(row: OpRow, dtypes: tuple[str, ...] = ("float32",)) -> OpRow:
    """The `decomposed` twin of a `decompose=False` row: the same calls through the path a
    default import takes (run_decompositions rewrites the op into others first), in few dtypes
    to keep the quick profile cheap; the ops it decomposes into have rows of their own."""
    if row.decompose:
        raise ValueError(f"{row.op}: only a decompose=False row has a decomposed twin")
    return dataclasses.replace(row, decompose=True, label="decomposed", dtypes=dtypes, edge=False,
                               tolerances={d: t for d, t in row.tolerances.items() if d in dtypes})

"""The call generators rows share: a `Generator` is a function from a `Ctx` to a strategy of `Call`s.

A row whose calls need more than a few lines gets a named generator next to it in its table
module; these are the ones many rows use, with the control elementwise ops need: keyword
arguments named in the variant, operands that are 0-dim next to dimensioned ones (PyTorch's
promotion treats them apart), scalars with an edge tier of their own, divisors that keep
eager PyTorch from trapping, and value transforms that make ties, zeros and exact halves common.

    unary_with      one tensor, plus keyword arguments
    pair            two broadcastable tensors (`a+b` dtypes give each its own)
    tensor_scalar   a tensor and a Python scalar (`.Scalar` overloads)
    zerodim_other   a dimensioned tensor and a 0-dim one (`a+b`: b is the 0-dim operand's)
    prefixed        another generator's calls with a prefix on their variant
    inplace_pair, inplace_tensor_scalar
                    the same for in-place overloads (`self` keeps its shape and dtype)
    where_calls, clamp_scalar_calls, clamp_tensor_calls
                    three operands

    OpRow("aten.elu.default", unary_with(alpha=st.sampled_from([None, 0.5])), FLOATS)
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from hypothesis import strategies as st

from opsuite.draw import values as V
from opsuite.draw.context import Call, Ctx, Generator, call, scalar_values, variant
from opsuite.draw.shapes import broadcast_pair, broadcast_triple, element_shapes
from opsuite.draw.shapes import shapes as ranked_shapes
from opsuite.draw.values import is_float

Transform = Callable[[torch.Tensor], torch.Tensor]


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
            dom = int_domain if int_domain and not is_float(ctx.part(0)) else domain
            high = 2 if dom == "index" else None
            x = d(ctx.tensors(element_shapes(max_rank), dom, high=high))
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
            a = d(ctx.tensors(sa, domain))
            rhs_int = not is_float(ctx.part(1))
            if divisor and rhs_int:
                b = _safe_divisor(a, d(ctx.tensors(sb, "nonzero", operand=1, edge=False)))
            else:
                b = d(ctx.tensors(sb, rhs_domain or domain, operand=1))
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
                  scalar_first: bool = False, shape: st.SearchStrategy | None = None,
                  **args: st.SearchStrategy) -> Generator:
    """A tensor and a Python scalar (`.Scalar` overloads); `a+b` makes the scalar of kind `b`.

    `scalar_first` puts the scalar first (pow.Scalar); `nonzero`, `divisor`, `extremes` and
    `choices` as in `scalar_values`; `ties` also takes the scalar from the tensor's own
    elements half the time, so comparisons meet equal elements; `alpha` draws an alpha
    valid for the result dtype; `shape` replaces the tensor's shapes (element_shapes(), with
    empty and 0-dim tensors).

    >>> tensor_scalar("positive", divisor=True)(Ctx("int32+float32")).example()  # doctest: +SKIP
    """
    def calls(ctx: Ctx) -> st.SearchStrategy[Call]:
        @st.composite
        def draw(d):
            x = d(ctx.tensors(element_shapes() if shape is None else shape, domain, operand=0))
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


def zerodim_other(domain: str = "real", rhs_domain: str | None = None, transform: Transform | None = None,
                  divisor: bool = False, alpha: bool = False) -> Generator:
    """A tensor of rank 1..4 and a 0-dim tensor of dtype part `b` as the second operand.

    PyTorch's promotion treats the 0-dim operand apart: it decides the result dtype only when
    its category (bool < integer < float) is higher than the dimensioned operand's, so a
    float16 tensor with a 0-dim float64 stays float16 and uint8 with a 0-dim int64 stays uint8.
    `rhs_domain`, `divisor` and `alpha` as in `pair`.

    >>> zerodim_other("real")(Ctx("float16+float64")).example()  # doctest: +SKIP
    """
    def calls(ctx: Ctx) -> st.SearchStrategy[Call]:
        @st.composite
        def draw(d):
            a = d(ctx.tensors(ranked_shapes(1, 4), domain))
            if divisor and not is_float(ctx.part(1)):
                b = _safe_divisor(a, d(ctx.tensors((), "nonzero", operand=1, edge=False)))
            else:
                b = d(ctx.tensors((), rhs_domain or domain, operand=1))
            if transform is not None:
                a, b = transform(a), transform(b)
            kwargs = {}
            if alpha and _scalable(a, b) and (value := d(_alpha(torch.result_type(a, b)))) is not None:
                kwargs["alpha"] = value
            return call(a, b, variant=variant("zerodim", _named(kwargs)), **kwargs)
        return draw()
    return calls


def prefixed(inner: Generator, prefix: str) -> Generator:
    """`inner`'s calls with `prefix-` before their variant (`tensor_scalar`'s "int-alpha"
    becomes "scalar-int-alpha"), so case ids and `variant:` predicates can name the form."""
    def calls(ctx: Ctx) -> st.SearchStrategy[Call]:
        return inner(ctx).map(lambda c: Call(c.args, c.kwargs, variant(prefix, c.variant)))
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
            a = d(ctx.tensors(full, domain))
            b = d(ctx.tensors(other_shape, domain, operand=1))
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
        cond = d(V.tensors("bool", sc))
        a = d(ctx.tensors(sa))
        b = d(ctx.tensors(sb, operand=1))
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
        x = d(ctx.tensors(sx))
        lo = d(ctx.tensors(shapes[1], operand=1))
        hi = d(ctx.tensors(shapes[2], operand=1, seed_slot=2))
        which = d(st.sampled_from(["min", "max", "both"]))
        if which == "min":
            return call(x, lo, None, variant="min")
        if which == "max":
            return call(x, None, hi, variant="max")
        return call(x, lo, hi, variant="both")
    return draw()

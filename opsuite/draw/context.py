"""What a row's generator draws with: a `Ctx` (dtype and value tier), and the `Call` it returns.

A generator is a function from a `Ctx` to a hypothesis strategy of `Call`s. The `Ctx` draws
every operand: `ctx.tensors(shape, domain, operand=i)` and `ctx.scalars(operand=i)` take
operand i's part of a mixed dtype (`int32+float16`: part 1 is float16) and the ctx's tier
(normal values, or the edge tier's NaN, inf and extremes).

Each operand gets its own value seed: the seed a tensor draws is offset by 7919 times its
`seed_slot` (by default its operand index), so operands drawn alike (in a minimal example
each draws seed 0) still hold different values, and x - x, x == x or x ^ x never make a
degenerate reference. Rows written before this rule draw some later operands with slot 0,
the first operand's seeds; they say so with `seed_slot=0`, which keeps their cases as they
were (same seed, same cases).

    def calls(ctx):
        return st.builds(lambda a, b: call(a, b), ctx.tensors((2, 3)), ctx.tensors((3,), operand=1))
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from opsuite.draw import values as V

# Scalars the edge tier adds to the usual small ones. PyTorch wraps integer scalars into the
# tensor's dtype (uint8 + 300 wraps), where a converter building a typed constant may refuse
# or saturate; float scalars overflow half types to inf.
_EDGE_FLOAT_SCALARS = (float("nan"), float("inf"), float("-inf"), -0.0, 0.0, 1e30, -1e30, 1e-30)
_EDGE_INT_SCALARS = (0, -1, 300, -129, 2**31 - 1, -(2**31), 2**40)
# Each seed slot shifts the drawn value seed by this much: equal drawn seeds (0 in every
# minimal example) give each operand its own values.
SEED_STRIDE = 7919


@dataclass(frozen=True)
class Call:
    """One way to call the op: positional and keyword arguments, and a short label for the id."""

    args: tuple
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    variant: str = "default"


def call(*args, variant: str = "default", **kwargs) -> Call:
    return Call(tuple(args), dict(kwargs), variant)


def variant(*parts: str | None) -> str:
    """A case-id variant label from the non-empty parts: variant("neg", None, "keep") == "neg-keep"."""
    return "-".join(p for p in parts if p) or "default"


@dataclass(frozen=True)
class Ctx:
    """What a row's generator is asked for: a dtype (or `a+b` for mixed operands) and a value tier."""

    dtype: str
    edge: bool = False

    def part(self, index: int) -> str:
        """The dtype of operand `index` (`int32+float16` -> part(1) == "float16")."""
        parts = self.dtype.split("+")
        return parts[min(index, len(parts) - 1)]

    def tensors(self, shape, domain: str = "real", operand: int = 0, *, seed_slot: int | None = None,
                edge: bool | None = None, high: int | None = None,
                layouts: Sequence[str] = V.LAYOUTS) -> st.SearchStrategy:
        """Tensors for operand `operand`: its dtype part, the ctx's tier (or `edge`), a shape
        drawn from `shape` (a strategy or a fixed shape), the value seed offset by `seed_slot`
        (default: `operand`; see the module docstring).

        >>> Ctx("int32+float16").tensors((2, 3), operand=1).example().dtype  # doctest: +SKIP
        torch.float16
        """
        slot = operand if seed_slot is None else seed_slot
        return V.tensors(self.part(operand), shape, domain, edge=self.edge if edge is None else edge,
                         layouts=layouts, high=high, seed_offset=SEED_STRIDE * slot)

    def scalars(self, low: float = -3.0, high: float = 3.0, operand: int = 0) -> st.SearchStrategy:
        return V.scalars(self.part(operand), low, high)


Generator = Callable[[Ctx], st.SearchStrategy[Call]]


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
    if choices is not None and V.is_int(dtype):
        strategy = st.sampled_from(choices)
    if ties and V.is_float(dtype):
        strategy = strategy.map(lambda v: round(v * 2) / 2)
    if nonzero or divisor:
        strategy = strategy.filter(lambda v: v != 0)
    if divisor and not V.is_float(dtype):
        strategy = strategy.filter(lambda v: abs(v) > 1)
    if ctx.edge and dtype != "bool" and extremes:
        edges = _EDGE_FLOAT_SCALARS if V.is_float(dtype) else _EDGE_INT_SCALARS
        if divisor and not V.is_float(dtype):
            edges = tuple(v for v in edges if v not in (0, -1))
        strategy = st.one_of(strategy, st.sampled_from(edges))
    return strategy

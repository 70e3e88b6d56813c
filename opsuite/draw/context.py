"""The row type of the op table: one aten overload, how to call it, in which dtypes.

A row is data: the overload, a function from a `Ctx` (the dtype and value tier being
generated) to a hypothesis strategy of `Call`s, the dtypes, per-dtype tolerance overrides
with reasons, and flags. Known failures are not on the row: they live in
opsuite/expectations.toml, where a command can rewrite them.

    OpRow("aten.sin.default", unary("real"), FLOATS)
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from harness.case import Tolerance
from harness.programs import op_program
from opsuite import strategies as S
from opsuite.values import ALL_DTYPES, FLOAT_DTYPES, INT_DTYPES

FLOATS = FLOAT_DTYPES
INTS = INT_DTYPES
NUMERIC = FLOAT_DTYPES + INT_DTYPES
ALL = ALL_DTYPES


@dataclass(frozen=True)
class Call:
    """One way to call the op: positional and keyword arguments, and a short label for the id."""

    args: tuple
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    variant: str = "default"


@dataclass(frozen=True)
class Ctx:
    """What a row's generator is asked for: a dtype (or `a+b` for mixed operands) and a value tier."""

    dtype: str
    edge: bool = False

    def part(self, index: int) -> str:
        """The dtype of operand `index` (`int32+float16` -> part(1) == "float16")."""
        parts = self.dtype.split("+")
        return parts[min(index, len(parts) - 1)]

    def tensors(self, shape, domain: str = "real", operand: int = 0, **kwargs) -> st.SearchStrategy:
        return S.tensors(self.part(operand), shape, domain, edge=self.edge, **kwargs)

    def scalars(self, low: float = -3.0, high: float = 3.0, operand: int = 0) -> st.SearchStrategy:
        return S.scalars(self.part(operand), low, high)


Generator = Callable[[Ctx], st.SearchStrategy[Call]]


@dataclass(frozen=True)
class OpRow:
    op: str  # the aten overload, `aten.add.Tensor`
    calls: Generator
    dtypes: Sequence[str]
    tolerances: Mapping[str, Tolerance] = field(default_factory=dict)  # dtype -> override
    edge: bool = True  # also generate the edge-value tier (NaN, inf, extremes)
    decompose: bool = True  # False: exercise a converter that decomposition would bypass
    nondeterministic: bool = False
    check: Callable | None = None  # property check instead of values (random ops)
    factory: Callable = op_program  # program factory(op=, args=, kwargs=); self-contained module
    examples: int | None = None  # quick-profile examples per dtype, when the default is not enough
    label: str = ""  # distinguishes two rows for the same overload in case ids

    def __post_init__(self) -> None:
        if not self.op.count(".") >= 2:
            raise ValueError(f"row op {self.op!r} must be a full overload name like aten.add.Tensor")
        unknown = [d for d in self.dtypes for p in d.split("+") if p not in ALL_DTYPES]
        if unknown:
            raise ValueError(f"{self.op}: unknown dtypes {unknown}")
        extra = set(self.tolerances) - set(self.dtypes)
        if extra:
            raise ValueError(f"{self.op}: tolerance for dtypes the row does not run: {sorted(extra)}")


def call(*args, variant: str = "default", **kwargs) -> Call:
    return Call(tuple(args), dict(kwargs), variant)


# ---------------------------------------------------------------------------------------------
# Generators shared by many rows. A row needing more than a few lines gets a named generator
# next to it in its table module.


def unary(domain: str = "real", max_rank: int = 4) -> Generator:
    """One tensor argument with values from `domain`, shapes of rank 0..max_rank, 0- and 1-sides."""
    def calls(ctx: Ctx):
        return ctx.tensors(S.shapes_with_edges(0, max_rank), domain).map(lambda x: call(x))
    return calls


def binary(domain: str = "real", rhs_domain: str | None = None, **kwargs_st: st.SearchStrategy) -> Generator:
    """Two broadcastable tensors (a mixed dtype `a+b` gives each its own), plus keyword strategies."""
    def calls(ctx: Ctx):
        @st.composite
        def draw(d):
            sa, sb = d(S.broadcast_shapes())
            a = d(ctx.tensors(sa, domain, operand=0))
            b = d(ctx.tensors(sb, rhs_domain or domain, operand=1))
            kwargs = {k: d(v) for k, v in kwargs_st.items()}
            kwargs = {k: v for k, v in kwargs.items() if v is not None}
            variant = "same" if sa == sb else "broadcast"
            return call(a, b, variant=variant + ("-" + "-".join(sorted(kwargs)) if kwargs else ""), **kwargs)
        return draw()
    return calls


def tensor_scalar(domain: str = "real", low: float = -3.0, high: float = 3.0, scalar_nonzero: bool = False) -> Generator:
    """A tensor and a Python scalar of a matching kind (`.Scalar` overloads)."""
    def calls(ctx: Ctx):
        scalar = ctx.scalars(low, high, operand=1)
        if scalar_nonzero:
            scalar = scalar.filter(lambda v: v != 0)
        return st.builds(lambda x, s: call(x, s), ctx.tensors(S.shapes_with_edges(0, 4), domain), scalar)
    return calls


@functools.cache
def _opinfo_dtypes() -> dict[str, frozenset[str]]:
    from torch.testing._internal.common_methods_invocations import op_db

    table: dict[str, set[str]] = {}
    for entry in op_db:
        names = {entry.name, getattr(entry, "aten_name", None) or entry.name}
        supported = {str(d).removeprefix("torch.") for d in entry.supported_dtypes("cpu")}
        for name in names:
            table.setdefault(name, set()).update(supported)
    return {k: frozenset(v) for k, v in table.items()}


def dtypes_for(name: str, fallback: Sequence[str] = ALL) -> tuple[str, ...]:
    """The dtypes eager PyTorch supports on CPU for OpInfo entry `name`, in our canonical order.

    Falls back to `fallback` when OpInfo has no entry of that name.

    >>> dtypes_for("sin")  # doctest: +SKIP
    ('float32', 'float16', 'bfloat16', 'float64', 'int32', 'int64', 'int8', 'uint8', 'bool')
    """
    supported = _opinfo_dtypes().get(name)
    if supported is None:
        return tuple(fallback)
    return tuple(d for d in ALL if d in supported)

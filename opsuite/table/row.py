"""The row type of the op table: one aten overload, how to call it, in which dtypes.

A row is data: the overload, a generator (a function from a `Ctx`, the dtype and value tier
being drawn, to a hypothesis strategy of `Call`s; see opsuite/draw/), the dtypes, per-dtype
tolerance overrides with reasons, and flags. Known failures are not on the row: they live in
opsuite/expectations/known_failures/*.toml, where a command can rewrite them.

    OpRow("aten.sin.default", unary_with("real"), dtypes_for("sin"))

A binary row also gets `operand_twins`: its second operand as programs pass it besides a
tensor, a Python scalar (`x * 0.5` exports as aten.mul.Tensor(x, 0.5)) or a 0-dim tensor.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import torch

from harness.case import Tolerance
from harness.programs import op_program
from opsuite.draw.calls import prefixed
from opsuite.draw.context import Generator
from opsuite.draw.values import ALL_DTYPES, FLOAT_DTYPES, INT_DTYPES

FLOATS = FLOAT_DTYPES
INTS = INT_DTYPES
NUMERIC = FLOAT_DTYPES + INT_DTYPES
ALL = ALL_DTYPES


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
    # dtype ("*": every dtype) -> why the normal tier keeps draws whose reference is degenerate
    # (a fill is constant by definition, isnan of integers all False); every other normal-tier
    # draw whose eager reference is degenerate is replaced (opsuite.generate.informative)
    degenerate: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.op.count(".") >= 2:
            raise ValueError(f"row op {self.op!r} must be a full overload name like aten.add.Tensor")
        unknown = [d for d in self.dtypes for p in d.split("+") if p not in ALL_DTYPES]
        if unknown:
            raise ValueError(f"{self.op}: unknown dtypes {unknown}")
        extra = set(self.tolerances) - set(self.dtypes)
        if extra:
            raise ValueError(f"{self.op}: tolerance for dtypes the row does not run: {sorted(extra)}")
        stray = set(self.degenerate) - set(self.dtypes) - {"*"}
        if stray or not all(reason.strip() for reason in self.degenerate.values()):
            raise ValueError(f"{self.op}: a degenerate-by-definition entry needs a dtype of the row and a reason")

    def degenerate_by_definition(self, dtype: str) -> str | None:
        """Why every reference of `dtype` is degenerate (the row's reason), or None."""
        return self.degenerate.get(dtype) or self.degenerate.get("*")


def decomposed_twin(row: OpRow, dtypes: tuple[str, ...] = ("float32",)) -> OpRow:
    """The `decomposed` twin of a `decompose=False` row: the same calls through the path a
    default import takes (run_decompositions rewrites the op into others first), in few dtypes
    to keep the quick profile cheap; the ops it decomposes into have rows of their own."""
    if row.decompose:
        raise ValueError(f"{row.op}: only a decompose=False row has a decomposed twin")
    return dataclasses.replace(row, decompose=True, label="decomposed", dtypes=dtypes, edge=False,
                               tolerances={d: t for d, t in row.tolerances.items() if d in dtypes},
                               degenerate={d: r for d, r in row.degenerate.items() if d in dtypes or d == "*"})


# The kinds of Python scalar, named by the dtype part that draws them (`a+b`: b is the
# scalar's kind, as the `.Scalar` rows have it): int, float, bool.
SCALAR_KINDS = {"int": "int64", "float": "float32", "bool": "bool"}
# The 0-dim partner of each tensor dtype: the widest of its category (the widest's own
# partner is the next narrower), where torch.promote_types and PyTorch's promotion of a
# 0-dim operand part; a bool tensor meets a 0-dim int64 (a higher category, which decides).
ZERODIM_PARTNER = {"float32": "float64", "float16": "float64", "bfloat16": "float64", "float64": "float32",
                   "int32": "int64", "int64": "int32", "int8": "int64", "uint8": "int64", "bool": "int64"}


def _writable(pairing: str, scalar: bool) -> bool:
    """Whether an in-place op may write `a op b` into `a` (the result dtype casts to a's)."""
    tensor, other = (getattr(torch, p) for p in pairing.split("+"))
    operand = torch.ones((), dtype=other)
    value = operand.item() if scalar else operand
    return torch.can_cast(torch.result_type(torch.ones(2, dtype=tensor), value), tensor)


def operand_twins(row: OpRow, scalar: Generator | None = None, zerodim: Generator | None = None,
                  kinds: Sequence[str] = tuple(SCALAR_KINDS), inplace: bool = False) -> list[OpRow]:
    """Rows for `row`'s op whose second operand is a Python scalar or a 0-dim tensor.

    `scalar` (e.g. a `tensor_scalar`) draws the calls of the row labelled "scalar": each
    single dtype of `row` meets a scalar of each of `kinds` (variants scalar-int,
    scalar-float, scalar-bool); `zerodim` (e.g. a `zerodim_other`) those of the row labelled
    "zerodim": each single dtype meets a 0-dim tensor of its ZERODIM_PARTNER. `inplace` keeps
    the pairings whose result an in-place op can write back. The twins draw with seeds of
    their own, so `row`'s cases stay as they were.

    >>> operand_twins(OpRow("aten.mul.Tensor", pair(), ("int32",)), tensor_scalar())[0].dtypes  # doctest: +SKIP
    ('int32+int64', 'int32+float32', 'int32+bool')
    """
    unknown = set(kinds) - set(SCALAR_KINDS)
    if unknown:
        raise ValueError(f"{row.op}: unknown scalar kinds {sorted(unknown)}")
    singles = [d for d in row.dtypes if "+" not in d]
    forms = []
    if scalar is not None:
        pairings = [f"{d}+{SCALAR_KINDS[k]}" for d in singles for k in kinds]
        forms.append(("scalar", prefixed(scalar, "scalar"), pairings, True))
    if zerodim is not None:
        forms.append(("zerodim", zerodim, [f"{d}+{ZERODIM_PARTNER[d]}" for d in singles], False))
    return [dataclasses.replace(row, calls=calls, label=label, tolerances={}, examples=None, degenerate={},
                                dtypes=tuple(p for p in pairings if not inplace or _writable(p, is_scalar)))
            for label, calls, pairings, is_scalar in forms]


@functools.cache
def _opinfo_dtypes() -> dict[str, frozenset[str]]:
    from opsuite.table import opinfo_dtypes

    if opinfo_dtypes.TORCH == torch.__version__:
        table = opinfo_dtypes.DTYPES
    else:  # another torch: its own database decides (seconds to import)
        from opsuite.table.opinfo_dtypes_gen import live

        table = live()
    return {name: frozenset(dtypes) for name, dtypes in table.items()}


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

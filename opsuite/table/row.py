"""The row type of the op table: one aten overload, how to call it, in which dtypes.

A row is data: the overload, a generator (a function from a `Ctx`, the dtype and value tier
being drawn, to a hypothesis strategy of `Call`s; see opsuite/draw/), the dtypes, per-dtype
tolerance overrides with reasons, and flags. Known failures are not on the row: they live in
opsuite/expectations/known_failures/*.toml, where a command can rewrite them.

    OpRow("aten.sin.default", unary_with("real"), dtypes_for("sin"))
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from harness.case import Tolerance
from harness.programs import op_program
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

    def __post_init__(self) -> None:
        if not self.op.count(".") >= 2:
            raise ValueError(f"row op {self.op!r} must be a full overload name like aten.add.Tensor")
        unknown = [d for d in self.dtypes for p in d.split("+") if p not in ALL_DTYPES]
        if unknown:
            raise ValueError(f"{self.op}: unknown dtypes {unknown}")
        extra = set(self.tolerances) - set(self.dtypes)
        if extra:
            raise ValueError(f"{self.op}: tolerance for dtypes the row does not run: {sorted(extra)}")


def decomposed_twin(row: OpRow, dtypes: tuple[str, ...] = ("float32",)) -> OpRow:
    """The `decomposed` twin of a `decompose=False` row: the same calls through the path a
    default import takes (run_decompositions rewrites the op into others first), in few dtypes
    to keep the quick profile cheap; the ops it decomposes into have rows of their own."""
    if row.decompose:
        raise ValueError(f"{row.op}: only a decompose=False row has a decomposed twin")
    return dataclasses.replace(row, decompose=True, label="decomposed", dtypes=dtypes, edge=False,
                               tolerances={d: t for d, t in row.tolerances.items() if d in dtypes})


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

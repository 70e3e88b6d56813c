"""The row type of the dynamic table: one torch program, its symbolic dims, and its run sizes.

A row is data: the program (a class of opsuite/dynamic/modules.py), its inputs as shape
templates over named dims, each dim's (min, max), and the op it is for. Everything else is
derived here, so a row cannot declare a dynamic axis the spec forgets:

- the export `dynamic_shapes` spec: every string entry of an input's shape is a dynamic axis;
- the export example: each dim at a distinct value inside its range, never 0 or 1 (torch.export
  specialises a dim whose example is 0 or 1);
- run sizes: every dim at its min (1 where the range allows it), at its max, and in between;
  with several dims also one size mixing mins and maxes;
- probes: the first dim one past its max, and four times its max (where memory planned for
  the max runs out), one below its min when the min is above 1, and, where a dim is shared by several axes or
  used in a derived form (`2*b`, `b+1`), one input whose axis breaks that relation.

    DynProgram("aten.add.Tensor", "Add", (data("b", 3), data("b", 3)), {"b": (1, 64)})
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.case import Case, DynamicSpec, Program, Tolerance
from opsuite.dynamic.modules import build

_NAME = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
# Export examples: small, distinct, and unlike the static sizes the programs use (2 to 8).
_EXAMPLES = (5, 7, 11, 13, 6, 9)


def data(*shape) -> tuple:
    return ("data", list(shape))


def mask(*shape) -> tuple:
    return ("mask", list(shape))


def index(*shape, high) -> tuple:
    return ("index", list(shape), high)


def value(expr: str) -> tuple:
    return ("value", expr)


def signed(*shape, sign: str) -> tuple:
    return ("signed", list(shape), sign)


def sparse(*shape) -> tuple:
    return ("sparse", list(shape))


@dataclass(frozen=True)
class DynProgram:
    op: str  # the op (family) it is for: `aten.add.Tensor`, `operator.floordiv`, `higher_order.cond`
    module: str  # class name in opsuite/dynamic/modules.py
    inputs: tuple[tuple, ...]  # input specs of modules.build (data(...), index(...), ...)
    dims: Mapping[str, tuple[int, int]]  # exported symbolic dims and their (min, max)
    variant: str = ""  # readable id part; default: the dynamic axes' expressions
    dtype: str = "float32"
    init: Mapping[str, Any] = field(default_factory=dict)  # the module's constructor keywords
    values: Mapping[str, tuple[int, ...]] = field(default_factory=dict)  # non-dim keywords per run
    example: Mapping[str, int] = field(default_factory=dict)  # export example overrides
    also: tuple[Mapping[str, int], ...] = ()  # run sizes beyond the derived ones
    decompose: bool = True
    tolerance: Tolerance | None = None
    quick: bool = True  # in the quick profile
    note: str = ""
    family: str = ""  # the op family's table (set by `family()`), for reports by family

    def __post_init__(self) -> None:
        if self.op.count(".") < 1:
            raise ValueError(f"{self.module}: op {self.op!r} must be a canonical name like aten.add.Tensor")
        for spec in self.inputs:
            for entry in _shape_of(spec):
                if isinstance(entry, str):
                    unknown = set(_NAME.findall(entry)) - set(self.dims)
                    if unknown:
                        raise ValueError(f"{self.module}: shape entry {entry!r} uses undeclared {sorted(unknown)}")
        used = {n for spec in self.inputs for e in _shape_of(spec) if isinstance(e, str) for n in _NAME.findall(e)}
        if set(self.dims) - used:
            raise ValueError(f"{self.module}: dims {sorted(set(self.dims) - used)} appear on no input axis")
        lengths = {len(v) for v in self.values.values()}
        if len(lengths) > 1:
            raise ValueError(f"{self.module}: every entry of `values` needs the same number of runs")

    @property
    def label(self) -> str:
        if self.variant:
            return self.variant
        exprs = []
        for spec in self.inputs:
            for entry in _shape_of(spec):
                if isinstance(entry, str) and entry.replace("*", "") not in exprs:
                    exprs.append(entry.replace("*", ""))
        return "-".join(exprs) or "static"

    def shapes(self) -> tuple[dict[int, str] | None, ...]:
        """The DynamicSpec `shapes`: per input, its axes whose entry is an expression."""
        return tuple({axis: e for axis, e in enumerate(_shape_of(spec)) if isinstance(e, str)} or None
                     for spec in self.inputs)

    def export_sizes(self) -> dict[str, int]:
        chosen: dict[str, int] = {}
        for name, (lo, hi) in self.dims.items():
            if name in self.example:
                chosen[name] = self.example[name]
                continue
            candidates = [v for v in _EXAMPLES if lo <= v <= hi and v not in chosen.values()]
            chosen[name] = candidates[0] if candidates else max(lo, 2)
        first_values = {k: v[0] for k, v in self.values.items()}
        return {**chosen, **first_values}

    def run_sizes(self) -> tuple[dict[str, int], ...]:
        names = list(self.dims)
        sizes: list[dict[str, int]] = []

        def add(size: dict[str, int]) -> None:
            if size not in sizes:
                sizes.append(size)

        if names:
            add({n: self.dims[n][0] for n in names})
            add({n: _between(*self.dims[n], offset=i) for i, n in enumerate(names)})
            add({n: self.dims[n][1] for n in names})
            if len(names) > 1:
                add({n: self.dims[n][i % 2] for i, n in enumerate(names)})
        runs = max((len(v) for v in self.values.values()), default=0)
        if runs:
            base = sizes or [{}]
            sizes = [{**base[i % len(base)], **{k: v[i] for k, v in self.values.items()}} for i in range(runs)]
        for size in self.also:
            add(dict(size))
        return tuple(sizes)

    def probes(self) -> tuple[dict[str, Any], ...]:
        names = list(self.dims)
        if not names:
            return ()
        middle = {n: _between(*self.dims[n], offset=i) for i, n in enumerate(names)}
        values = {k: v[0] for k, v in self.values.items()}
        probes = [{**middle, **values, names[0]: self.dims[names[0]][1] + 1},
                  {**middle, **values, names[0]: 4 * self.dims[names[0]][1]}]
        if self.dims[names[0]][0] > 1:
            probes.append({**middle, **values, names[0]: self.dims[names[0]][0] - 1})
        broken = self._broken_relation(middle)
        if broken is not None:
            probes.append({**middle, **values, **broken})
        return tuple(probes)

    def _broken_relation(self, middle: dict[str, int]) -> dict[str, int] | None:
        """`in<i>.<dim>` overriding one input's value of a dim that another axis also carries."""
        seen: dict[str, int] = {}
        for index, spec in enumerate(self.inputs):
            for entry in _shape_of(spec):
                if not isinstance(entry, str):
                    continue
                (name,) = _NAME.findall(entry)
                if seen.get(name, index) != index:
                    return {f"in{index}.{name}": middle[name] + 1}
                seen.setdefault(name, index)
        return None

    def spec(self) -> DynamicSpec:
        return DynamicSpec(dims=dict(self.dims), shapes=self.shapes(), sizes=self.run_sizes(),
                           probes=self.probes())


def family(name: str, programs: list[DynProgram]) -> list[DynProgram]:
    """The programs of one family's table, tagged with its name."""
    return [dataclasses.replace(p, family=name) for p in programs]


def _shape_of(spec: tuple) -> list:
    return [] if spec[0] == "value" else list(spec[1])


def _between(lo: int, hi: int, offset: int = 0) -> int:
    """A size strictly inside (lo, hi) where there is one; dims get different ones by offset."""
    if hi - lo < 2:
        return hi
    return min(hi - 1, (lo + hi) // 2 + offset)


def to_case(program: DynProgram, index: int, seed: int) -> Case:
    case_id = f"dyn.{program.op.removeprefix('aten.')}[{program.dtype}-{program.label}-{index}]"
    kwargs = {"program": program.module, "inputs": [tuple(s) for s in program.inputs],
              "dtype": program.dtype, "seed": seed, "init": dict(program.init), **program.export_sizes()}
    return Case(case_id=case_id, kind="dynamic", op=program.op, program=Program(build, kwargs),
                dtype=program.dtype, seed=seed, tolerance=program.tolerance, decompose=program.decompose,
                dynamic=program.spec(), timeout=120.0,
                meta={"variant": program.label, "module": program.module, "family": program.family,
                      "dims": {k: list(v) for k, v in program.dims.items()},
                      **({"note": program.note} if program.note else {})})

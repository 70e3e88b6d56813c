"""The op table: every module here but row.py defines ROWS (a list of OpRow), some also NO_CASE.

How to add an op:
1. Pick the module for its kind of op (MODULES below: pointwise, reductions, nn_conv, ...); a
   new kind gets a new module, added to MODULES.
2. Append an `OpRow(overload, generator, dtypes)` to its ROWS (row.py). The generator draws
   the calls: one from opsuite/draw/calls.py, or a named function next to the row when it
   takes more than a few lines (`ctx.tensors`, `ctx.scalars` and opsuite/draw/shapes.py draw
   the operands). `dtypes_for("name")` gives the dtypes eager supports; widen a tolerance
   only with a written reason. A binary op also gets `operand_twins(row, ...)` (row.py): the
   same op with its second operand a Python scalar of each kind (variants scalar-int,
   scalar-float, scalar-bool) and a 0-dim tensor (variant zerodim), where eager takes them.
3. Run it: `harness check aten.NAME.OVERLOAD` prints a line per case and writes a repro
   script for each failure.
4. Declare each failure that is TVM's in opsuite/expectations/known_failures/<module>.toml
   (see opsuite/expectations/); fix the generator when the case itself is wrong.

NO_CASE (optional) maps an op of the coverage denominators to the reason it has no numeric
case (it does not resolve in this torch, it only appears in graphs with symbolic sizes, ...);
the completeness test fails for any denominator op with neither a row nor such a reason.
"""

from __future__ import annotations

import functools
import importlib

from opsuite.table.row import OpRow

MODULES = ("pointwise", "activations", "comparison", "reductions", "nn", "nn_conv", "nn_pool", "nn_norm",
           "nn_resample", "nn_rnn", "linalg", "shape", "indexing", "creation", "random")


def _modules():
    return [importlib.import_module(f"opsuite.table.{name}") for name in MODULES]


@functools.cache
def rows() -> tuple[OpRow, ...]:
    found: list[OpRow] = []
    for module in _modules():
        found.extend(module.ROWS)
    seen: set[tuple[str, str]] = set()
    for row in found:
        key = (row.op, row.label)
        if key in seen:
            raise ValueError(f"two rows for {row.op} without distinct labels")
        seen.add(key)
    return tuple(found)


@functools.cache
def no_case() -> dict[str, str]:
    reasons: dict[str, str] = {}
    for module in _modules():
        for op, reason in getattr(module, "NO_CASE", {}).items():
            if not reason.strip():
                raise ValueError(f"no-case entry {op} needs a reason")
            if op in reasons:
                raise ValueError(f"{op} has two no-case entries")
            reasons[op] = reason
    return reasons

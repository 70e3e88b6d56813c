"""The op table: every module here defines ROWS (a list of OpRow) and NO_CASE.

NO_CASE maps an op of the denominators to the reason it has no numeric case (it does not
resolve in this torch, it only appears in graphs with symbolic sizes, ...). The
completeness test fails for any denominator op with neither a row nor such a reason.
"""

from __future__ import annotations

import functools
import importlib

from opsuite.rows import OpRow

MODULES = ("pointwise", "activations", "comparison", "reductions", "nn", "linalg", "shape", "indexing",
           "creation", "random")


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

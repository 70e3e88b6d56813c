"""The op table's cases are the same whether one process builds them or several (opsuite.plan)."""

from __future__ import annotations

import dataclasses
import functools

import pytest
import torch

from opsuite import plan
from opsuite.generate import row_cases
from opsuite.table import rows


def _value(x):
    """What a case is made of, tensors by dtype, shape, strides and values (pickled tensors carry
    storage keys that differ from process to process, so their pickles cannot be compared)."""
    if isinstance(x, torch.Tensor):
        data = repr(x.dequantize().tolist() if x.is_quantized else x.detach().tolist())  # -0.0 and NaN kept
        return ("tensor", str(x.dtype), tuple(x.shape), x.stride(), data)
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return (type(x).__name__, tuple((f.name, _value(getattr(x, f.name))) for f in dataclasses.fields(x)))
    if isinstance(x, dict):
        return ("dict", tuple((k, _value(v)) for k, v in x.items()))
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, tuple(_value(v) for v in x))
    if isinstance(x, functools.partial):
        return ("partial", _value(x.func), _value(x.args), _value(x.keywords))
    if callable(x) and hasattr(x, "__qualname__"):
        return ("callable", x.__module__, x.__qualname__)
    return repr(x)


def test_rows_built_in_two_processes_give_the_cases_one_process_gives(monkeypatch):
    chosen = list(rows()[::20])  # ~20 rows from every part of the table
    monkeypatch.setattr(plan, "MIN_ROWS", len(chosen))
    alone = [case for row in chosen for case in row_cases(row, "quick", 3)]
    monkeypatch.setenv(plan.PROCESSES_ENV, "2")
    pools = []

    class Counted(plan.ProcessPoolExecutor):
        def __init__(self, workers, **options):
            pools.append(workers)
            super().__init__(workers, **options)

    monkeypatch.setattr(plan, "ProcessPoolExecutor", Counted)
    shared = plan.cases(chosen, "quick", 3)
    assert pools == [2]
    assert [c.case_id for c in shared] == [c.case_id for c in alone]
    differing = [a.case_id for a, b in zip(alone, shared, strict=True) if _value(a) != _value(b)]
    assert differing == []
    # The comparison can fail: another seed draws other inputs under the same ids.
    other = {c.case_id: c for c in plan.cases(chosen[:2], "quick", 4)}
    assert any(_value(c) != _value(other[c.case_id]) for c in alone if c.case_id in other)


def test_the_process_count(monkeypatch):
    monkeypatch.setenv(plan.PROCESSES_ENV, "3")
    assert plan.processes(plan.MIN_ROWS) == 3
    assert plan.processes(plan.MIN_ROWS - 1) == 1  # `harness check OP`: built where it is asked
    monkeypatch.setenv(plan.PROCESSES_ENV, "two")
    for rows_ in (plan.MIN_ROWS, 1):  # bad input is an error even where one process would build
        with pytest.raises(ValueError, match="HARNESS_PLAN_PROCESSES='two': expected a whole number"):
            plan.processes(rows_)

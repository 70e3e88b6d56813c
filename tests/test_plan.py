"""The op table's cases are the same whether one process builds them or several (opsuite.plan)."""

from __future__ import annotations

import dataclasses
import functools

import pytest
import torch

from opsuite import plan, plan_cache
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
    monkeypatch.setenv(plan_cache.CACHE_ENV, "off")  # every row drawn here, none read back
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


def _refuse_to_draw(*_):
    raise AssertionError("a row was drawn that the cache holds")


def test_rows_read_back_from_the_cache_are_the_rows_drawn(tmp_path, monkeypatch):
    chosen = list(rows()[5::40])
    monkeypatch.setenv(plan_cache.CACHE_ENV, "off")
    drawn = plan.cases(chosen, "quick", 0)
    assert not tmp_path.joinpath("plans").exists()
    monkeypatch.setenv(plan_cache.CACHE_ENV, str(tmp_path / "plans"))
    first = plan.cases(chosen, "quick", 0)
    kept = sorted((tmp_path / "plans").rglob("*.pickle"))
    assert len(kept) == len(chosen)
    monkeypatch.setattr(plan, "row_cases", _refuse_to_draw)
    read = plan.cases(chosen, "quick", 0)
    assert [_value(c) for c in read] == [_value(c) for c in first] == [_value(c) for c in drawn]
    # Another seed is another plan: drawn, not read.
    with pytest.raises(AssertionError, match="a row was drawn"):
        plan.cases(chosen[:1], "quick", 1)


def test_an_unreadable_cache_file_is_drawn_again_and_rewritten(tmp_path, monkeypatch):
    monkeypatch.setenv(plan_cache.CACHE_ENV, str(tmp_path))
    chosen = list(rows()[:2])
    first = plan.cases(chosen, "quick", 0)
    for torn in tmp_path.rglob("*.pickle"):
        torn.write_bytes(torn.read_bytes()[:50])
    assert [plan_cache.load(plan.row_id(row), "quick", 0) for row in chosen] == [None, None]
    assert [_value(c) for c in plan.cases(chosen, "quick", 0)] == [_value(c) for c in first]
    assert all(plan_cache.load(plan.row_id(row), "quick", 0) for row in chosen)


def test_the_key_changes_with_any_source_file_and_any_library(tmp_path, monkeypatch):
    for top in plan_cache.SOURCES:
        (tmp_path / top).mkdir()
        (tmp_path / top / "a.py").write_text("A = 1\n")
    monkeypatch.setattr(plan_cache, "ROOT", tmp_path)
    key = plan_cache.code_key.__wrapped__
    before = key()
    assert key() == before
    (tmp_path / "opsuite" / "a.py").write_text("A = 2\n")
    edited = key()
    (tmp_path / "harness" / "b.toml").write_text("")
    added = key()
    monkeypatch.setattr(plan_cache, "_version", lambda name: "9" if name == "hypothesis" else "1")
    assert len({before, edited, added, key()}) == 4


def test_only_the_most_recent_plans_of_other_code_are_kept(tmp_path, monkeypatch):
    import os

    monkeypatch.setenv(plan_cache.CACHE_ENV, str(tmp_path))
    others = [f"other{i}" for i in range(plan_cache.KEEP_OTHERS + 2)]
    for age, name in enumerate(others):  # other0 the newest
        (tmp_path / name / "quick-0").mkdir(parents=True)
        (tmp_path / name / "quick-0" / "row.pickle").write_bytes(b"")
        for path in (tmp_path / name, tmp_path / name / "quick-0"):
            os.utime(path, (1e9 - age * 1000, 1e9 - age * 1000))
    plan_cache.store("aten.sin.default", "quick", 0, [])
    kept = sorted(p.name for p in tmp_path.iterdir())
    assert kept == sorted([plan_cache.code_key(), *others[:plan_cache.KEEP_OTHERS]])
    assert plan_cache.load("aten.sin.default", "quick", 0) == []

"""Shrink failures to minimal examples with hypothesis (the nightly profile).

For each distinct failure (row, dtype, tier, error signature), hypothesis replays the row's
strategy under the seed that generated the failing case, so it meets the same example
again, then shrinks it: every smaller example that fails the same way (same raw status,
same error signature) becomes the new best. Each group has a time bound (45 s), and the
run one in all (8 minutes, so the nightly op suite stays within an hour on 2 cores); when
one is spent, the best so far stands. The minimal case is returned with its record, for a
repro script.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed

from harness.case import FAILURES, Case
from opsuite.draw.context import Ctx
from opsuite.draw.shapes import degenerate_shapes
from opsuite.generate import PROFILES, case_from_call, row_id, stable_seed
from opsuite.table import rows
from opsuite.table.row import OpRow

RunOne = Callable[[Case], list[dict]]


class _SameFailure(Exception):
    """Raised inside the property so hypothesis treats the example as failing and shrinks it."""


def _failed(record: dict) -> bool:
    return (record.get("raw_status") or record["status"]) in FAILURES


def _signature(record: dict) -> tuple:
    return (record.get("raw_status") or record["status"], record.get("error_signature"))


def groups(failures: list[tuple[Case, dict]]) -> list[tuple[Case, dict]]:
    """One representative per (row, dtype, tier, failure), the first in case order."""
    seen, chosen = set(), []
    for case, record in failures:
        if case.kind != "op" or "row" not in case.meta or not _failed(record):
            continue
        key = (case.meta["row"], case.dtype, case.meta.get("tier"), _signature(record))
        if key not in seen:
            seen.add(key)
            chosen.append((case, record))
    return chosen


def shrink_one(row: OpRow, case: Case, record: dict, run_one: RunOne, seconds: float, seed: int,
               profile: str = "nightly") -> tuple[Case, dict] | None:
    tier = case.meta.get("tier", "normal")
    hseed = stable_seed(seed, row_id(row), case.dtype, tier)
    target = _signature(record)
    best: list[tuple[Case, dict]] = []
    deadline = time.monotonic() + seconds
    budget = PROFILES[profile]
    examples = max(budget.first, budget.other, budget.edge) + 1

    @settings(max_examples=examples, database=None, deadline=None, derandomize=False,
              phases=[Phase.generate, Phase.shrink], suppress_health_check=list(HealthCheck),
              report_multiple_bugs=False)
    @hypothesis_seed(hseed)
    @given(row.calls(Ctx(case.dtype, edge=tier == "edge")))
    def property_(call):
        if time.monotonic() > deadline:
            return
        candidate = case_from_call(row, call, case.dtype, 0, stable_seed(hseed, "min"), hseed, tier)
        candidate = _renamed(candidate, case)
        (result,) = run_one(candidate)[:1]
        if _signature(result) == target:
            best.append((candidate, result))
            raise _SameFailure

    try:
        with degenerate_shapes(tier == "edge"):  # as the case was generated
            property_()
    except Exception:  # noqa: BLE001 - hypothesis re-raises the failure (or Flaky past the deadline)
        pass
    return best[-1] if best else None


def _renamed(candidate: Case, original: Case) -> Case:
    """The shrunk case keeps the original's id with `min` for its index, its expectations and family."""
    case_id = re.sub(r"-\d+\]$", "-min]", original.case_id)
    return dataclasses.replace(candidate, case_id=case_id, expectations=original.expectations,
                               family=original.family, meta={**candidate.meta, "shrunk_from": original.case_id})


def minimise(failures: list[tuple[Case, dict]], run_one: RunOne, seed: int,
             seconds_per_failure: float = 45.0, total_seconds: float = 480.0) -> list[tuple[Case, dict]]:
    """Minimal failing cases for the distinct failures among `failures`, within the time bounds."""
    by_id = {row_id(r): r for r in rows()}
    found = []
    stop = time.monotonic() + total_seconds
    for case, record in groups(failures):
        left = stop - time.monotonic()
        row = by_id.get(case.meta["row"])
        if left <= 0 or row is None:
            continue
        result = shrink_one(row, case, record, run_one, min(seconds_per_failure, left), seed)
        if result is not None:
            found.append(result)
    return found

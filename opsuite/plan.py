"""The op table's cases built in several processes: a nightly plan is ~27,000 hypothesis draws.

Building the nightly profile's op cases takes about five minutes of one core (hypothesis draws
and validates its strategies, and each normal-tier draw runs eager once to reject degenerate
references), while a run's workers wait for the plan. Rows are independent: each (row, dtype,
tier) draws under its own seed (opsuite.generate), so any process builds the same cases for a
row, and the rows are dealt round-robin to PROCESSES spawned processes (neighbouring rows are
often alike in cost) and their cases put back in table order. A small selection (`harness check
OP`) is built here, where starting processes would cost more than it saves. Rows this code
has built before are read from opsuite.plan_cache instead; only the others are drawn.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
from concurrent.futures import ProcessPoolExecutor
from itertools import repeat

from harness.case import Case
from opsuite import plan_cache
from opsuite.generate import row_cases, row_id
from opsuite.table.row import OpRow

# At most this many processes, and only for a selection of at least MIN_ROWS rows: a spawned
# process spends ~3 s importing torch and the table before it draws anything.
PROCESSES_ENV = "HARNESS_PLAN_PROCESSES"
MIN_ROWS = 40


def processes(rows: int) -> int:
    """How many processes build `rows` rows: HARNESS_PLAN_PROCESSES, else the usable cores."""
    chosen = os.environ.get(PROCESSES_ENV)
    if chosen is not None and (not chosen.isdigit() or int(chosen) < 1):
        raise ValueError(f"{PROCESSES_ENV}={chosen!r}: expected a whole number of processes, at least 1")
    if rows < MIN_ROWS:
        return 1
    if chosen is not None:
        return int(chosen)
    from harness.targets import available_cores

    return available_cores()


def _cases_of(ids: list[str], profile: str, seed: int) -> bytes:
    """The rows' cases, pickled here by value: left to the pool, torch's reductions would send
    each tensor as a shared-memory file descriptor, and a nightly half-plan holds more tensors
    than a process may open files (`OSError: [Errno 24] Too many open files`)."""
    from opsuite.table import rows

    table = {row_id(row): row for row in rows()}
    return pickle.dumps({i: row_cases(table[i], profile, seed) for i in ids}, protocol=pickle.HIGHEST_PROTOCOL)


def cases(chosen: list[OpRow], profile: str, seed: int) -> list[Case]:
    """Every case of `chosen`, in table order, as row_cases gives them one row at a time; rows
    this code has built before come from opsuite.plan_cache."""
    ids = [row_id(row) for row in chosen]
    by_row: dict[str, list[Case]] = {}
    for i in ids:
        if (kept := plan_cache.load(i, profile, seed)) is not None:
            by_row[i] = kept
    missing = [row for row, i in zip(chosen, ids, strict=True) if i not in by_row]
    built = _build(missing, profile, seed)
    for i, found in built.items():
        plan_cache.store(i, profile, seed, found)
    by_row.update(built)
    return [case for i in ids for case in by_row[i]]


def _build(chosen: list[OpRow], profile: str, seed: int) -> dict[str, list[Case]]:
    count = min(processes(len(chosen)), len(chosen))
    if count <= 1:
        return {row_id(row): row_cases(row, profile, seed) for row in chosen}
    ids = [row_id(row) for row in chosen]
    by_row: dict[str, list[Case]] = {}
    with ProcessPoolExecutor(count, mp_context=multiprocessing.get_context("spawn")) as pool:
        for part in pool.map(_cases_of, [ids[i::count] for i in range(count)], repeat(profile), repeat(seed)):
            by_row.update(pickle.loads(part))
    return by_row

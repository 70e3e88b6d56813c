"""What to test per aten op: the op table, hypothesis strategies, dynamic shapes.

`cases(profile, seed)` is the `ops` family the engine finds through its entry point: the op
table's rows, then OpInfo's samples (opsuite.opinfo).
"""

from __future__ import annotations


def cases(profile: str, seed: int):
    from opsuite import opinfo
    from opsuite.expectations import attach
    from opsuite.generate import row_cases
    from opsuite.table import rows

    found = []
    for row in rows():
        found.extend(row_cases(row, profile, seed))
    found.extend(opinfo.cases(profile, seed))
    return attach(found)


def minimise(failures, run_one, seed):
    from opsuite.shrink import minimise as shrink

    return shrink(failures, run_one, seed)


cases.update_expectations = "python -m opsuite.expectations update {results}"
cases.minimise = minimise

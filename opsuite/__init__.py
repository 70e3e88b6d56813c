"""What to test per aten op: the op table, hypothesis strategies, dynamic shapes.

`cases(profile, seed)` is the `ops` family the engine finds through its entry point: the op
table's rows, the dynamic-shape programs, then OpInfo's samples (opsuite.opinfo).
"""

from __future__ import annotations


def cases(profile: str, seed: int, wanted=None):
    """Every row's cases, or only those of ops `wanted(op)` accepts (see harness.sources.load),
    then the dynamic-shape programs (ids `dyn.*`) and the OpInfo cases (`opinfo.*`), filtered alike."""
    from opsuite import dynamic, opinfo
    from opsuite.expectations import attach
    from opsuite.generate import row_cases
    from opsuite.table import rows

    found = []
    for row in rows():
        if wanted is not None and not wanted(row.op):
            continue
        found.extend(row_cases(row, profile, seed))
    found.extend(dynamic.cases(profile, seed, wanted))
    found.extend(c for c in opinfo.cases(profile, seed) if wanted is None or wanted(c.op))
    return attach(found)


def minimise(failures, run_one, seed):
    from opsuite.shrink import minimise as shrink

    return shrink(failures, run_one, seed)


cases.update_expectations = "python -m opsuite.expectations update {results}"
cases.minimise = minimise

"""The op suite's case families, as the engine finds them (pyproject.toml, group `harness.cases`).

    op      the op table's rows (opsuite/table/, kind "op") and the dynamic-shape programs
            (opsuite/dynamic/, kind "dynamic"): a case's `op` is the overload (or other op
            key, `operator.floordiv`) it is for
    opinfo  PyTorch's OpInfo samples (opsuite/opinfo/): a case's `op` is its OpInfo entry,
            `opinfo.<name>[.<variant>]`

`--ops` selects both. Both attach the known failures in opsuite/expectations/known_failures/.
"""

from __future__ import annotations

from harness.family import Family

UPDATE = "python -m opsuite.expectations update {results}"


def op_cases(profile: str, seed: int, wanted=None):
    """Every row's cases, or only those of ops `wanted(op)` accepts (see harness.sources.load),
    then the dynamic-shape programs (ids `dyn.*`), filtered alike."""
    from opsuite import dynamic, plan
    from opsuite.expectations.entries import attach
    from opsuite.table import rows

    found = plan.cases([row for row in rows() if wanted is None or wanted(row.op)], profile, seed)
    found.extend(dynamic.cases(profile, seed, wanted))
    return attach(found)


def opinfo_cases(profile: str, seed: int, wanted=None):
    """The OpInfo cases of `profile` (ids `opinfo.*`), or only those of entries `wanted` accepts."""
    from opsuite.expectations.entries import attach
    from opsuite.opinfo.cases import cases

    return attach([c for c in cases(profile, seed) if wanted is None or wanted(c.op)])


def minimise(failures, run_one, seed):
    from opsuite.shrink import minimise as shrink

    return shrink(failures, run_one, seed)


OP = Family(name="op", option="ops", cases=op_cases, minimise=minimise, update=UPDATE)
OPINFO = Family(name="opinfo", option="ops", cases=opinfo_cases, update=UPDATE)

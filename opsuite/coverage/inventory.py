"""Which denominator ops have cases, which are declared uncovered, and which are neither.

OpInfo entries are a denominator of their own: `opinfo_inventory()` gives each one its
cases per profile or the reason it has none.
"""

from __future__ import annotations

import collections

from opsuite import table
from opsuite.coverage import denominators


def planned_ops() -> collections.Counter:
    """Rows per op: the op table's rows, and the dynamic programs declared for an op."""
    counts = collections.Counter(row.op for row in table.rows())
    try:
        from opsuite.dynamic import programs
    except ImportError:
        return counts
    counts.update(p.op for p in programs())
    return counts


def _no_program() -> dict[str, str]:
    """Ops only symbolic graphs could hold that no exported graph does (opsuite.dynamic)."""
    try:
        from opsuite.dynamic import no_program
    except ImportError:
        return {}
    return no_program()


def inventory() -> dict[str, dict]:
    """Per op of the union of denominators (and any op with a row): denominators, rows, no-case reason."""
    planned = planned_ops()
    no_case = {**table.no_case(), **_no_program()}
    union = denominators.union()
    result = {}
    for op in sorted(set(union) | set(planned)):
        result[op] = {"denominators": sorted(union.get(op, ())), "rows": planned.get(op, 0),
                      "no_case": no_case.get(op)}
    return result


def missing() -> list[str]:
    """Denominator ops with neither a row nor a no-case reason: what the completeness test rejects."""
    return [op for op, info in inventory().items() if info["denominators"] and not info["rows"] and not info["no_case"]]


def opinfo_inventory() -> dict[str, dict]:
    """Per OpInfo entry (denominators.opinfo_entries()): cases per profile, or the exclusion reason."""
    from opsuite.opinfo import cases as opinfo

    excluded = opinfo.excluded()
    counts = {profile: collections.Counter(c.op.removeprefix("opinfo.") for c in opinfo.cases(profile, 0))
              for profile in ("quick", "nightly")}
    return {entry: {"quick": counts["quick"][entry], "nightly": counts["nightly"][entry],
                    "excluded": excluded.get(entry)}
            for entry in denominators.opinfo_entries()}


def opinfo_missing() -> list[str]:
    """OpInfo entries with neither a case nor an exclusion reason."""
    return [entry for entry, info in opinfo_inventory().items() if not info["nightly"] and not info["excluded"]]

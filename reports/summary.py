"""The summary figures: grades per denominator, totals per status, the environment (summary.json).

The figures depend on the records (and the installed denominators) only, never on where or
when the report was rendered, so two directories holding the same records give the same
summary; `seconds_total` is the one timing figure.
"""

from __future__ import annotations

import collections

from harness.case import STATUSES
from reports import universe
from reports.load import FAILING, Run
from reports.matrix import Matrix, column_key, grade_counts
from reports.triage import Bug

SCHEMA = 1


def summarise(run: Run, matrix: Matrix, found: list[Bug]) -> dict:
    records = run.records
    statuses = collections.Counter(r["status"] for r in records)
    by_target: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for r in records:
        by_target[r["target"]][r["status"]] += 1
    seconds = sum(float((r.get("seconds") or {}).get("total") or 0.0) for r in records)
    return {
        "schema": SCHEMA,
        "environment": run.environment,
        "versions": sorted({f"torch {r.get('torch_version')} / tvm {r.get('tvm_version')}" for r in records}),
        "cases": len(records),
        "probes": len(run.probes),
        "targets": sorted(by_target, key=lambda t: column_key(t + "/")),
        "statuses": {s: statuses.get(s, 0) for s in STATUSES},
        "statuses_by_target": {t: {s: by_target[t].get(s, 0) for s in STATUSES}
                               for t in sorted(by_target, key=lambda t: column_key(t + "/"))},
        "unexpected": sum(n for s, n in statuses.items() if s in FAILING),
        "denominators": {d: grade_counts(matrix, d) for d in universe.DENOMINATORS},
        "rows": len(matrix.rows),
        "rows_outside_denominators": sum(1 for r in matrix.rows if not r.row.denominators),
        "bugs": len(found),
        "bugs_unexpected": sum(1 for b in found if b.expected < b.count),
        "seconds_total": round(seconds, 3),
    }


def headline(summary: dict) -> str:
    """One line for a terminal or a CI log."""
    parts = [f"{summary['cases']} cases"]
    parts += [f"{s}={n}" for s, n in summary["statuses"].items() if n]
    convert = summary["denominators"]["convert_map"]
    parts.append(f"convert-map keys full {convert['full']}/{convert['total']}")
    parts.append(f"{summary['bugs']} distinct failures")
    return ", ".join(parts)

"""The summary figures: grades per denominator, totals per status, the environment (summary.json).

The figures depend on the records (and the installed denominators) only, never on where or
when the report was rendered, so two directories holding the same records give the same
summary; `seconds_total` and the device compile's `seconds` are the timing figures.
"""

from __future__ import annotations

import collections

from harness.case import STATUSES
from reports import differential, universe
from reports.load import FAILING, Run, outcome
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
        "degenerate": degenerate(records),
        "seconds_total": round(seconds, 3),
        "device_compile": device_compile(records),
        **_frontends(records),
    }


def degenerate(records: list[dict]) -> dict:
    """Passes on a degenerate reference, apart from those whose op makes every reference of the
    dtype degenerate (they prove all the op can): the share the draws are held to."""
    passes = [r for r in records if r["status"] == "pass"]
    flagged = [r for r in passes if r.get("degenerate")]
    drawn = [r for r in flagged if outcome(r) == "degenerate"]  # the matrix's own rule
    # an op row's tier; else a dynamic program, an OpInfo sample or a model
    tiers = collections.Counter((r.get("meta") or {}).get("tier")
                                or (r["kind"] if r["kind"] != "op" else r.get("family") or "op") for r in drawn)
    return {"passes": len(passes), "drawn": len(drawn), "by_definition": len(flagged) - len(drawn),
            "drawn_by_tier": dict(sorted(tiers.items()))}


def _frontends(records: list[dict]) -> dict:
    """Where the records hold several frontends: which, and how many ops split between each pair
    (absent otherwise, so a single-frontend summary is what it was before frontends existed)."""
    roads = differential.frontends(records)
    if len(roads) < 2:
        return {}
    found = differential.splits(records)
    return {"frontends": roads,
            "differential": {f"{a}>{b}": len({s.op for s in found if (s.passes, s.fails) == (a, b)})
                             for a in roads for b in roads if a != b},
            "differential_left_out": differential.left_out(records)}


def device_compile(records: list[dict]) -> dict | None:
    """How the CUDA kernels were compiled: by whom, for which archs, with what outcome."""
    programs = {}
    for r in records:  # one report per compiled program: a dynamic program's sizes share it
        if r.get("device_compile"):
            programs.setdefault(r.get("dynamic_case") or r["case_id"], r["device_compile"])
    if not programs:
        return None
    reports = list(programs.values())
    archs = sorted({a for d in reports for a in d.get("archs", {})}, key=lambda a: int("0" + "".join(filter(str.isdigit, a))))
    return {"compilers": sorted({d.get("compiler") for d in reports}),
            "where": sorted({d.get("where") for d in reports}),
            "archs": archs, "programs": len(reports),
            "rejected": sum(1 for d in reports if d.get("failed_arch")),
            "seconds": round(sum(sum(d.get("seconds", {}).values()) for d in reports), 3)}


def device_compile_line(summary: dict) -> str | None:
    found = summary.get("device_compile")
    if not found:
        return None
    where = ("by TVM inside tvm.compile, for the GPU's arch" if found["where"] == ["tvm.compile"]
             else "by the harness (no GPU), for each arch")
    return (f"CUDA kernels of {found['programs']} compiled programs went through "
            f"{'/'.join(c.upper() if c == 'nvrtc' else c for c in found['compilers'])} {where}: "
            f"{', '.join(found['archs'])}; {found['rejected']} rejected; {found['seconds']:.0f} s of device compiling.")


def headline(summary: dict) -> str:
    """One line for a terminal or a CI log."""
    parts = [f"{summary['cases']} cases"]
    parts += [f"{s}={n}" for s, n in summary["statuses"].items() if n]
    convert = summary["denominators"]["convert_map"]
    parts.append(f"convert-map keys full {convert['full']}/{convert['total']}")
    parts.append(f"{summary['bugs']} distinct failures")
    return ", ".join(parts)

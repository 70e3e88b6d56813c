"""New findings: what a nightly exploration (a new seed every night) found that no expectation explains.

A run is an exploration when its fingerprint says so (`nightly_mode: explore`, written by
`python -m harness.nightly merge --mode explore`). Its unexpected outcomes fail nothing: each
distinct defect (a triage row with undeclared cases) and each unexpected pass is a finding,
shown with its smallest example (the shrunk case from minimal.jsonl where shrinking ran) and
that example's repro. A finding stays one every night it is drawn, until a person declares
it or the gate's fixed draws reach it (then the gate fails on it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.records import MINIMAL_FILE, ResultsError, expectation_of, read_results
from reports import triage
from reports.load import FAILING, Run, full_repro_link, repro_link

EXPLORE = "explore"


@dataclass
class Finding:
    what: str  # the defect's signature, or the stale expectation of an unexpected pass
    bug: str | None  # the triage row (B1, ...); None for an unexpected pass
    statuses: list[str]
    cases: list[str]  # the unexpected cases' ids
    example: dict  # the shrunk case where shrinking ran, else the smallest unexpected case
    shrunk: bool
    repro: str | None  # relative to the report directory: the short one where written
    full_repro: str | None


def is_exploration(run: Run) -> bool:
    return (run.environment or {}).get("nightly_mode") == EXPLORE


def _minimal(directory: Path) -> list[dict]:
    path = Path(directory) / MINIMAL_FILE
    if not path.is_file():
        return []
    try:
        return [r for r in read_results(path) if not r.get("probe")]
    except ResultsError:
        return []  # a torn file: the run's own smallest case stands in


def _finding(what: str, bug: str | None, records: list[dict], minimal: list[dict], directory: Path) -> Finding:
    shrunk = [r for r in minimal if r.get("shrunk_from") in {c["case_id"] for c in records}
              and triage.is_failure(r) and triage.signature(r) == triage.signature(records[0])]
    example = triage.smallest(shrunk or records)
    return Finding(what, bug, sorted({r["status"] for r in records}), sorted(r["case_id"] for r in records),
                   example, bool(shrunk), repro_link(example, directory), full_repro_link(example, directory))


def findings(run: Run, bugs: list[triage.Bug]) -> list[Finding]:
    """Every defect with an undeclared case, then every unexpected pass."""
    directory = Path(run.directory)
    minimal = _minimal(directory)
    by_key = {(r["case_id"], r["target"]): r for r in run.records}
    found = []
    for bug in bugs:
        unexpected = [by_key[k] for k in bug.case_keys if by_key[k]["status"] in FAILING]
        if unexpected:
            found.append(_finding(bug.signature, bug.id, unexpected, minimal, directory))
    for record in triage.stale(run):
        reason = expectation_of(record).get("reason") or record.get("expectation")
        found.append(_finding(f"unexpected pass: the expectation no longer holds ({reason})", None, [record],
                              [], directory))
    return found

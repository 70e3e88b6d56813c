"""The differential view: ops that pass through one frontend and fail through another.

Computed from records of several frontends (one run directory, or runs merged with `harness
merge`), case by case: a case counts where both roads ran it, one passed (before expectations:
an expectation is a claim about one road, so `raw_status` is what each road did) and the other
failed. Cases are grouped by op and by the pair of roads, with the failing road's error
signatures and what the passing road said, so a converter one road has and the other lacks (or
gets wrong) shows as one line. Skips on either side count for nothing.

A case through fx or dynamo counts only where it made a public call (the record's `call` is not
`aten`): TVM's FX table is keyed by the torch functions users call, so an op case that had to
call the aten overload (no public function does the same in eager) fails there whatever the FX
converters do. Such cases, and those whose record has no `call` (written before the field, or
stopped before the module was built), are left out, and `left_out` counts them.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field

from harness.case import FAILURES
from reports.load import frontend_of


@dataclass
class Split:
    op: str
    passes: str  # the frontend the cases pass through
    fails: str  # the frontend they fail through
    cases: list[str] = field(default_factory=list)
    signatures: collections.Counter = field(default_factory=collections.Counter)  # failing road's

    @property
    def signature(self) -> str:
        """The failing road's most common signature (and how many others there are)."""
        (top, _), *rest = self.signatures.most_common()
        return top + (f" (+{len(rest)} other)" if rest else "")


def _raw(record: dict) -> str:
    return record.get("raw_status") or record["status"]


def _signature(record: dict) -> str:
    return record.get("error_signature") or f"{record.get('stage') or '?'}: {_raw(record)}"


def comparable(record: dict) -> bool:
    """Whether a record says something about its road's converters (see the module's doc)."""
    return frontend_of(record) == "export" or record.get("call") not in (None, "aten")


def left_out(records: list[dict]) -> dict[str, dict[str, int]]:
    """Per road with cases left out: how many cases, and how many ops have no case left."""
    by_road: dict[str, dict[str, list[bool]]] = collections.defaultdict(lambda: collections.defaultdict(list))
    for record in records:
        if _raw(record) != "skip":  # a skip counts for nothing anyway
            by_road[frontend_of(record)][record["op"]].append(comparable(record))
    counts = {}
    for road, ops in sorted(by_road.items()):
        cases = sum(kept.count(False) for kept in ops.values())
        if cases:
            counts[road] = {"cases": cases, "ops": sum(not any(kept) for kept in ops.values())}
    return counts


def left_out_lines(records: list[dict]) -> list[str]:
    return [f"{n['ops']} ops ({n['cases']} cases) left out through {road}: the case called the aten "
            "overload (no public torch call does the same in eager), or its record says no call; "
            "such a failure is not an FX-converter gap" for road, n in left_out(records).items()]


def frontends(records: list[dict]) -> list[str]:
    from harness.case import FRONTENDS

    found = {frontend_of(r) for r in records}
    return [f for f in FRONTENDS if f in found] + sorted(found - set(FRONTENDS))


def splits(records: list[dict]) -> list[Split]:
    """Every (op, passing road, failing road) with the cases that split that way; most cases first."""
    by_case: dict[tuple[str, str], dict[str, dict]] = collections.defaultdict(dict)
    for record in records:
        by_case[(record["case_id"], record["target"])][frontend_of(record)] = record
    found: dict[tuple[str, str, str], Split] = {}
    for (case_id, _), roads in sorted(by_case.items()):
        roads = {road: r for road, r in roads.items() if comparable(r)}
        for good, passed in roads.items():
            if _raw(passed) != "pass":
                continue
            for bad, failed in roads.items():
                if _raw(failed) in FAILURES:
                    split = found.setdefault((passed["op"], good, bad), Split(passed["op"], good, bad))
                    split.cases.append(case_id)
                    split.signatures[_signature(failed)] += 1
    return sorted(found.values(), key=lambda s: (s.passes, s.fails, -len(s.cases), s.op))


def headline(found: list[Split], roads: list[str]) -> list[str]:
    """`N ops pass through export but fail through fx`, for every ordered pair of roads."""
    lines = []
    for good in roads:
        for bad in roads:
            if good != bad:
                ops = {s.op for s in found if (s.passes, s.fails) == (good, bad)}
                lines.append(f"{len(ops)} ops pass through {good} but fail through {bad}")
    return lines

"""The differential view: ops that pass through one frontend and fail through another.

Computed from records of several frontends (one run directory, or runs merged with `harness
merge`), case by case: a case counts where both roads ran it, one passed (before expectations:
an expectation is a claim about one road, so `raw_status` is what each road did) and the other
failed. Cases are grouped by op and by the pair of roads, with the failing road's error
signatures and what the passing road said, so a converter one road has and the other lacks (or
gets wrong) shows as one line. Skips on either side count for nothing.
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

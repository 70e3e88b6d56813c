"""Failures grouped by error signature: one entry per distinct bug, the list issues are filed from.

A record is a failure here when its raw verdict failed (`status` in the failure statuses, or
`xfail`: an expected failure is still a bug, marked as known). Records group by
`error_signature` (numbers, names and addresses normalised by the engine); a record without
one groups by `stage: status`. A mismatch is the exception: its message only says how far the
values are off, which is alike for unrelated ops, so wrong values group by the op they came from. Each bug names its stage, how many cases it hits, the ops and
dtypes, and its smallest example (fewest input elements, then case id) with that example's repro:
the short one (the case in one screen) where the run wrote one, and the full one.
Unexpected passes are not bugs: they are listed apart, as stale expectations.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from harness.case import FAILURES
from harness.records import expectation_of
from reports.load import Run, full_repro_link, input_elements, repro_link

# `trace` (torch.fx) and `dynamo` are PyTorch's too: the dynamo road moves a failure inside TVM
# to its import, compile or run stage, so what stays at `dynamo` is capture (a graph break).
TORCH_STAGES = ("eager", "export", "decompose", "trace", "dynamo")


@dataclass
class Bug:
    id: str  # B1, B2, ...: undeclared bugs first, then by cases hit
    signature: str
    stage: str
    statuses: dict[str, int]  # raw status -> cases
    count: int
    expected: int  # of which declared (xfail)
    ops: list[str]
    dtypes: list[str]
    targets: list[str]
    example: dict  # the smallest failing record
    example_repro: str | None  # the repro to show, relative to the report directory: the short one, else the full
    example_full_repro: str | None = None  # the full repro (every stage as the harness runs it)
    example_short_source: str | None = None  # the short repro's text, to paste into an issue
    reasons: list[str] = field(default_factory=list)  # the expectations' reasons, if declared
    links: list[str] = field(default_factory=list)
    case_keys: list[tuple[str, str]] = field(default_factory=list)  # (case_id, target)

    @property
    def owner(self) -> str:
        """Whose bug: a case that fails before the importer runs fails in PyTorch."""
        return "PyTorch" if self.stage in TORCH_STAGES else "TVM"

    @property
    def example_elements(self) -> int:
        return input_elements(self.example)


def is_failure(record: dict) -> bool:
    return record["status"] in FAILURES or record["status"] == "xfail"


def signature(record: dict) -> str:
    raw = record.get("raw_status") or record["status"]
    if raw == "mismatch":  # the differing facets (dtype, values, ...), per op: one op's wrong output is one bug
        return f"{record.get('error_signature') or 'compare: wrong output'} from {record['op']}"
    return record.get("error_signature") or f"{record.get('stage') or '?'}: {raw}"


def smallest(records: list[dict]) -> dict:
    """Fewest input elements; on a tie the CPU case, which anyone can rerun."""
    return min(records, key=lambda r: (input_elements(r), r["target"] != "llvm", r["case_id"], r["target"]))


def _short_source(record: dict, directory: Path) -> str | None:
    link = repro_link(record, directory)
    if link is None or link == full_repro_link(record, directory):
        return None
    return (directory / link).read_text(encoding="utf-8")


def bugs(run: Run) -> list[Bug]:
    failing = [r for r in run.records if is_failure(r)]
    if not failing:
        return []
    df = pd.DataFrame({"index": range(len(failing)), "signature": [signature(r) for r in failing]})
    found = []
    for sig, group in df.groupby("signature", sort=True):
        records = [failing[i] for i in group["index"]]
        example = smallest(records)
        expectations = [expectation_of(r) for r in records if r["status"] == "xfail" and r.get("expectation")]
        found.append(Bug(
            id="", signature=sig,
            stage=collections.Counter(r.get("stage") or "?" for r in records).most_common(1)[0][0],
            statuses=dict(sorted(collections.Counter(r.get("raw_status") or r["status"]
                                                     for r in records).items())),
            count=len(records), expected=sum(r["status"] == "xfail" for r in records),
            ops=sorted({r["op"] for r in records}), dtypes=sorted({r["dtype"] for r in records}),
            targets=sorted({r["target"] for r in records}), example=example,
            example_repro=repro_link(example, Path(run.directory)),
            example_full_repro=full_repro_link(example, Path(run.directory)),
            example_short_source=_short_source(example, Path(run.directory)),
            reasons=sorted({e["reason"] for e in expectations if e.get("reason")}),
            links=sorted({e["link"] for e in expectations if e.get("link")}),
            case_keys=sorted((r["case_id"], r["target"]) for r in records)))
    # What no expectation explains is news: it comes first, then the bugs that hit the most cases.
    found.sort(key=lambda b: (b.expected == b.count, -b.count, b.signature))
    for number, bug in enumerate(found, start=1):
        bug.id = f"B{number}"
    return found


def bug_of(found: list[Bug]) -> dict[tuple[str, str], str]:
    """(case_id, target) -> the id of the bug the case hits."""
    return {key: bug.id for bug in found for key in bug.case_keys}


def stale(run: Run) -> list[dict]:
    """Unexpected passes: their expectation no longer holds."""
    return sorted((r for r in run.records if r["status"] == "xpass"), key=lambda r: (r["case_id"], r["target"]))

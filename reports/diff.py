"""The nightly diff: what changed between a baseline run and this one, and whether it regressed.

Cases are matched by (case_id, target). Each record is put on a level by its verdict:

    good      pass or xpass (the program computed the right thing)
    compiles  CUDA compiled on a machine without a GPU (run never attempted)
    known     xfail: a declared expected failure
    fail      any failure status the expectations did not explain
    skip      not applicable (eager does not support the dtype, ...)

and a matched case is classified by its two levels:

    regression  good/compiles -> known/fail, or known -> fail (an expected failure that now fails
                differently is a different bug); compiles -> a failure at run/compare is not one,
                as the run was never tried before
    fix         known/fail -> good/compiles
    signature   failing on both sides (fail or known), with another status or error signature
    changed     any other change of status: good <-> compiles (another machine), skip <-> anything,
                fail -> known (an expectation was declared)

Ops (every row of the matrix) are compared by their grade over the cases both runs share, so
adding or removing cases never makes a regression by itself: an op regresses when that grade
falls (full > partial > none). New and vanished ops are those that gained or lost their own
cases. `harness report DIR --baseline OLD` exits 1 when there is any case or op regression.
"""

from __future__ import annotations

import collections
from dataclasses import asdict, dataclass, field

from harness.case import FAILURES
from reports.load import Run, frontend_of, outcome
from reports.matrix import Matrix, grade

# "compiles" is as good as a machine without a GPU can grade: full there.
_ORDER = {"full": 3, "compiles": 3, "partial": 2, "unproven": 1, "none": 0}


@dataclass
class Change:
    case_id: str
    target: str
    op: str
    before: str  # status
    after: str
    before_signature: str | None = None
    after_signature: str | None = None
    error: str | None = None  # this run's one-line error


@dataclass
class OpChange:
    op: str
    family: str
    before: str  # grade
    after: str
    shared: bool  # graded over the cases both runs share


@dataclass
class Diff:
    regressions: list[Change] = field(default_factory=list)
    fixes: list[Change] = field(default_factory=list)
    signatures: list[Change] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)
    new: list[Change] = field(default_factory=list)
    vanished: list[Change] = field(default_factory=list)
    op_regressions: list[OpChange] = field(default_factory=list)
    op_fixes: list[OpChange] = field(default_factory=list)
    new_ops: list[OpChange] = field(default_factory=list)
    vanished_ops: list[OpChange] = field(default_factory=list)

    @property
    def regressed(self) -> bool:
        return bool(self.regressions or self.op_regressions)

    def counts(self) -> dict[str, int]:
        return {k: len(v) for k, v in asdict(self).items()}

    def to_json(self) -> dict:
        return {"regressed": self.regressed, "counts": self.counts(), **asdict(self)}


def level(record: dict) -> str:
    status = record["status"]
    if status in ("pass", "xpass"):
        return "good"
    if status == "xfail":
        return "known"
    if status in FAILURES:
        return "fail"
    return "compiles" if outcome(record) == "compiles" else "skip"


def classify(old: dict, new: dict) -> str | None:
    a, b = level(old), level(new)
    if a in ("good", "compiles") and b in ("known", "fail"):
        if a == "compiles" and new.get("stage") in ("run", "compare"):
            return "changed"
        return "regression"
    if a == "known" and b == "fail":
        return "regression"
    if a in ("known", "fail") and b in ("good", "compiles"):
        return "fix"
    if a in ("known", "fail") and b == a:
        same = (old["status"] == new["status"]
                and old.get("error_signature") == new.get("error_signature"))
        return None if same else "signature"
    return None if old["status"] == new["status"] else "changed"


def _key(record: dict) -> tuple[str, ...]:
    # The export road keeps the key it had before frontends existed, so older baselines still match.
    road = frontend_of(record)
    return (record["case_id"], record["target"]) + (() if road == "export" else (road,))


def _change(old: dict | None, new: dict | None) -> Change:
    some = new or old
    return Change(some["case_id"], some["target"], some["op"],
                  old["status"] if old else "", new["status"] if new else "",
                  old.get("error_signature") if old else None,
                  new.get("error_signature") if new else None,
                  new.get("error") if new else None)


def compare(old_run: Run, new_run: Run, old_matrix: Matrix, new_matrix: Matrix) -> Diff:
    old = {_key(r): r for r in old_run.records}
    new = {_key(r): r for r in new_run.records}
    diff = Diff()
    for key in sorted(set(old) | set(new)):
        if key not in old:
            diff.new.append(_change(None, new[key]))
        elif key not in new:
            diff.vanished.append(_change(old[key], None))
        elif kind := classify(old[key], new[key]):
            getattr(diff, {"regression": "regressions", "fix": "fixes", "signature": "signatures",
                           "changed": "changed"}[kind]).append(_change(old[key], new[key]))
    _compare_ops(diff, old, new, old_matrix, new_matrix)
    return diff


def _compare_ops(diff: Diff, old: dict, new: dict, old_matrix: Matrix, new_matrix: Matrix) -> None:
    shared: dict[str, tuple[list, list]] = {}
    for key in set(old) & set(new):
        before, after = shared.setdefault(new[key]["op"], ([], []))
        before.append(outcome(old[key]))
        after.append(outcome(new[key]))
    names = sorted(set(old_matrix.by_name) | set(new_matrix.by_name))
    for name in names:
        was, now = old_matrix.by_name.get(name), new_matrix.by_name.get(name)
        family = (now or was).row.family
        had, has = bool(was and was.own), bool(now and now.own)
        if has and not had:
            diff.new_ops.append(OpChange(name, family, was.grade if was else "no case", now.grade, False))
        elif had and not has:
            diff.vanished_ops.append(OpChange(name, family, was.grade, now.grade if now else "no case", False))
        elif name in shared:
            row = (now or was).row
            before, after = (grade(collections.Counter(o), row) for o in shared[name])
            if before in _ORDER and after in _ORDER and _ORDER[before] != _ORDER[after]:
                target = diff.op_regressions if _ORDER[after] < _ORDER[before] else diff.op_fixes
                target.append(OpChange(name, family, before, after, True))


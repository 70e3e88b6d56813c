"""The release diff: what a newer TVM release changed, read forward from the older one.

`python -m reports.release_diff RUN_A RUN_B [--out FILE]` compares two runs of the same cases under
two TVM releases (`nox -s compat` makes them). The older release is the baseline whichever order
the directories are given in (their environment.json names the versions), so a fix of the newer
release is never reported as a regression.

Verdicts are TVM's own: a record's `raw_status`, before expected failures were applied, since the
known-failure files describe the pinned release only. Cases are matched by (case_id, target):

    fixed      failed under the older release, passes under the newer
    broken     passed under the older release, fails under the newer (the newer release's regression)
    differs    fails under both, with another status or error signature
    changed    any other change (a skip on one side)

Per op (a record's `op`: an aten overload or a model), over the cases both runs share:

    newly supported   every case that ran was import_unsupported under the older release, and
                      some case passes under the newer
    imports now       the same, but no case passes yet under the newer (it fails later)
    broken            some case broke (whatever else changed)
    fixed             some case was fixed and none broke

Writes FILE (markdown, default RUN_A/compat.md) and FILE with .json, prints the headline.
Exit status: 0 written, 2 bad input (a missing or corrupt results directory).
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from packaging.version import InvalidVersion, Version

from harness.case import FAILURES, STATUSES
from harness.records import ResultsError
from reports.load import Run, load
from reports.render_md import clip, esc, tvm_description

MAX_CASE_ROWS = 150
MAX_OP_ROWS = 300
CATEGORIES = ("broken", "newly supported", "imports now", "fixed")


def raw(record: dict) -> str:
    return record.get("raw_status") or record["status"]


def level(record: dict) -> str:
    status = raw(record)
    if status in ("pass", "xpass"):  # xpass/xfail: a record written before raw_status existed
        return "pass"
    return "fail" if status in FAILURES or status == "xfail" else "skip"


@dataclass
class CaseChange:
    case_id: str
    target: str
    op: str
    before: str  # raw status under the older release
    after: str  # raw status under the newer release
    error: str | None  # the failing side's one-line error (the newer one's when both fail)


@dataclass
class OpChange:
    op: str
    family: str | None
    cases: int  # shared cases
    passed_before: int
    passed_after: int
    fixed: int
    broken: int
    category: str


@dataclass
class ReleaseDiff:
    older: str  # version labels
    newer: str
    older_dir: str
    newer_dir: str
    statuses_before: dict[str, int]
    statuses_after: dict[str, int]
    matched: int
    fixed: list[CaseChange] = field(default_factory=list)
    broken: list[CaseChange] = field(default_factory=list)
    differs: list[CaseChange] = field(default_factory=list)
    changed: list[CaseChange] = field(default_factory=list)
    only_older: list[str] = field(default_factory=list)
    only_newer: list[str] = field(default_factory=list)
    ops: list[OpChange] = field(default_factory=list)

    def ops_in(self, category: str) -> list[OpChange]:
        return [o for o in self.ops if o.category == category]

    def headline(self) -> str:
        passed = (self.statuses_before.get("pass", 0), self.statuses_after.get("pass", 0))
        return (f"TVM {self.older} -> {self.newer} (baseline: the older release, {self.older}): "
                f"{self.matched} cases in both runs, pass {passed[0]} -> {passed[1]}; "
                f"fixed in {self.newer}: {len(self.fixed)} cases ({len(self.ops_in('fixed'))} ops); "
                f"broken in {self.newer}: {len(self.broken)} cases ({len(self.ops_in('broken'))} ops); "
                f"newly supported in {self.newer}: {len(self.ops_in('newly supported'))} ops")

    def to_json(self) -> dict:
        return {"headline": self.headline(), **asdict(self)}


def version_of(run: Run) -> str:
    """The run's TVM version: its fingerprint's, else its records', else the directory's name."""
    found = run.environment.get("tvm_version") or next(
        (r.get("tvm_version") for r in run.records if r.get("tvm_version")), None)
    return str(found or run.directory.name)


def in_release_order(a: Run, b: Run) -> tuple[Run, Run]:
    """(older, newer) by TVM version; as given when a version does not parse or both are equal."""
    try:
        if Version(version_of(b)) < Version(version_of(a)):
            return b, a
    except InvalidVersion:
        pass
    return a, b


def _key(record: dict) -> tuple[str, str]:
    return record["case_id"], record["target"]


def _case_change(old: dict, new: dict) -> CaseChange:
    error = new.get("error") if level(new) == "fail" else old.get("error")
    return CaseChange(new["case_id"], new["target"], new["op"], raw(old), raw(new), error)


def _classify(old: dict, new: dict) -> str | None:
    a, b = level(old), level(new)
    if a == "fail" and b == "pass":
        return "fixed"
    if a == "pass" and b == "fail":
        return "broken"
    if a == b == "fail":
        same = raw(old) == raw(new) and old.get("error_signature") == new.get("error_signature")
        return None if same else "differs"
    return None if raw(old) == raw(new) else "changed"


def _op_category(pairs: list[tuple[dict, dict]], fixed: int, broken: int) -> str | None:
    ran = [(o, n) for o, n in pairs if level(o) != "skip"]
    if ran and all(raw(o) == "import_unsupported" for o, _ in ran):
        if any(level(n) == "pass" for _, n in ran):
            return "newly supported"
        if any(raw(n) != "import_unsupported" and level(n) != "skip" for _, n in ran):
            return "imports now"
    if broken:
        return "broken"
    return "fixed" if fixed else None


def compare(a: Run, b: Run) -> ReleaseDiff:
    """The diff reading forward from the older of the two runs' releases to the newer."""
    older, newer = in_release_order(a, b)
    old = {_key(r): r for r in older.records}
    new = {_key(r): r for r in newer.records}
    shared = sorted(set(old) & set(new))
    diff = ReleaseDiff(
        older=version_of(older), newer=version_of(newer), older_dir=str(older.directory),
        newer_dir=str(newer.directory),
        statuses_before=dict(collections.Counter(raw(r) for r in older.records)),
        statuses_after=dict(collections.Counter(raw(r) for r in newer.records)),
        matched=len(shared),
        only_older=[f"{c} ({t})" for c, t in sorted(set(old) - set(new))],
        only_newer=[f"{c} ({t})" for c, t in sorted(set(new) - set(old))])
    per_op: dict[str, list[tuple[dict, dict]]] = collections.defaultdict(list)
    for key in shared:
        o, n = old[key], new[key]
        per_op[n["op"]].append((o, n))
        if kind := _classify(o, n):
            getattr(diff, kind).append(_case_change(o, n))
    fixed = collections.Counter(c.op for c in diff.fixed)
    broken = collections.Counter(c.op for c in diff.broken)
    for op, pairs in sorted(per_op.items()):
        category = _op_category(pairs, fixed[op], broken[op])
        if category is None:
            continue
        diff.ops.append(OpChange(
            op, pairs[0][1].get("family"), len(pairs), sum(level(o) == "pass" for o, _ in pairs),
            sum(level(n) == "pass" for _, n in pairs), fixed[op], broken[op], category))
    diff.ops.sort(key=lambda o: (CATEGORIES.index(o.category), o.op))
    return diff


def _status_table(diff: ReleaseDiff) -> list[str]:
    lines = [f"| status | TVM {diff.older} | TVM {diff.newer} |", "|---|---:|---:|"]
    for status in STATUSES:
        before, after = diff.statuses_before.get(status, 0), diff.statuses_after.get(status, 0)
        if before or after:
            lines.append(f"| {status} | {before} | {after} |")
    lines.append(f"| all | {sum(diff.statuses_before.values())} | {sum(diff.statuses_after.values())} |")
    return lines


def _case_table(diff: ReleaseDiff, changes: list[CaseChange], error_side: str) -> list[str]:
    lines = [f"| case | target | TVM {diff.older} | TVM {diff.newer} | error ({error_side}) |",
             "|---|---|---|---|---|"]
    for c in changes[:MAX_CASE_ROWS]:
        lines.append(f"| `{esc(c.case_id)}` | {c.target} | {c.before} | {c.after} | {esc(clip(c.error))} |")
    if len(changes) > MAX_CASE_ROWS:
        lines.append(f"| … {len(changes) - MAX_CASE_ROWS} more in the .json | | | | |")
    return lines


def render(diff: ReleaseDiff, older_env: dict, newer_env: dict) -> str:
    o, n = f"TVM {diff.older}", f"TVM {diff.newer}"
    lines = [f"# {o} → {n}: what the newer release changed", "",
             f"Baseline: the older release, {o} (`{diff.older_dir}`); compared: {n} (`{diff.newer_dir}`). "
             f"Read forward: *fixed* passes under {n} and failed under {o}; *broken* passed under {o} and "
             f"fails under {n} (a regression of {n}). Verdicts are TVM's own (`raw_status`), before the "
             "declared expected failures, which describe the pinned release.", "",
             f"**{diff.headline()}**", "",
             f"- older: {tvm_description(older_env) if older_env else o}",
             f"- newer: {tvm_description(newer_env) if newer_env else n}", "",
             "## Statuses per release", "", *_status_table(diff), ""]
    lines += [f"## Ops and models that changed ({len(diff.ops)})", "",
              f"| op | family | shared cases | pass under {o} | pass under {n} | fixed | broken | what changed |",
              "|---|---|---:|---:|---:|---:|---:|---|"]
    for op in diff.ops[:MAX_OP_ROWS]:
        lines.append(f"| `{esc(op.op)}` | {op.family or ''} | {op.cases} | {op.passed_before} | "
                     f"{op.passed_after} | {op.fixed} | {op.broken} | {op.category} |")
    if len(diff.ops) > MAX_OP_ROWS:
        lines.append(f"| … {len(diff.ops) - MAX_OP_ROWS} more in the .json | | | | | | | |")
    lines += ["", f"## Broken in {n} ({len(diff.broken)} cases: passed under {o})", "",
              *_case_table(diff, diff.broken, n), "",
              f"## Fixed in {n} ({len(diff.fixed)} cases: failed under {o})", "",
              *_case_table(diff, diff.fixed, o), "",
              f"## Failing under both, differently ({len(diff.differs)} cases)", "",
              *_case_table(diff, diff.differs, n), ""]
    if diff.changed:
        lines += [f"## Other changes ({len(diff.changed)} cases: a skip on one side)", "",
                  *_case_table(diff, diff.changed, "the failing side"), ""]
    lines += [f"## Cases in one run only: {len(diff.only_older)} under {o} only, "
              f"{len(diff.only_newer)} under {n} only", ""]
    for label, ids in ((o, diff.only_older), (n, diff.only_newer)):
        if ids:
            shown = ", ".join(f"`{esc(i)}`" for i in ids[:20])
            lines.append(f"- only under {label}: {shown}" + (f" … {len(ids) - 20} more" if len(ids) > 20 else ""))
    return "\n".join(lines).rstrip() + "\n"


def write(a: Path, b: Path, out: Path) -> ReleaseDiff:
    runs = load(a), load(b)
    diff = compare(*runs)
    older, newer = in_release_order(*runs)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(diff, older.environment, newer.environment), encoding="utf-8")
    out.with_suffix(".json").write_text(json.dumps(diff.to_json(), indent=1) + "\n", encoding="utf-8")
    return diff


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reports.release_diff", description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, nargs=2, metavar="DIR", help="two results directories, any order")
    parser.add_argument("--out", type=Path, help="the markdown file (default: the first DIR's compat.md)")
    args = parser.parse_args(argv)
    for directory in args.runs:
        if not (directory / "results.jsonl").is_file():
            print(f"release_diff: error: {directory}: no results.jsonl", file=sys.stderr)
            return 2
    out = args.out or args.runs[0] / "compat.md"
    try:
        diff = write(*args.runs, out)
    except ResultsError as err:
        print(f"release_diff: error: {err}", file=sys.stderr)
        return 2
    print(diff.headline())
    print(f"written: {out} and {out.with_suffix('.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

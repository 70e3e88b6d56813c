"""The nightly's one bit: what tonight's merged records mean for the gate and for the exploration.

Both jobs run the nightly profile; only the seed and the meaning of an unexpected outcome differ.

    gate     seed 0, the same draws every night. Red (exit 1) on an unexpected outcome (a failure
             no expectation explains, an unexpected pass) of any case it judges. With a baseline
             (the last night's merged gate run) each one is named for what it is:
               regression   the case passed, or failed as declared, last night; or it passed
                          last night and fails tonight even as declared (a declared bug that
                          newly reaches a case that worked is still a change: the TVM or the
                          tables moved)
               ran before   the case was in the baseline with another outcome (failing then too,
                            or skipped)
               new case     the case is not in the baseline. As the seed is fixed, only a change
                            of the code or the tables adds a case, so it is judged as any other:
                            unexpected is red, exactly as on the first night (no baseline).
             Nothing else turns it red: an op whose grade falls, a vanished case, a case that
             failed as declared and still does (or is now skipped) are in the report, not the bit.
    explore  a new seed every night (`explore_seed`). Every unexpected outcome is a new finding:
             reported with its smallest (shrunk, where shrinking ran) example and its repro, and
             the job passes. A finding stays one until a person declares it or the gate's draws
             reach it.

Flaky cases (their expectation, tonight or in the baseline, is marked `flaky`: TVM reads
uninitialised memory, so the bug shows on some runs only) are listed apart and not judged while
they pass or fail as declared; an unexpected outcome on one is judged like any other.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from harness.case import UNEXPECTED
from harness.records import expectation_of

MODES = ("gate", "explore")
GATE_SEED = 0
_SEED_RANGE = 2**31 - 1  # any int seeds the draws; a small one is easy to read and to type


def explore_seed(run_id: str | None, today: datetime.date) -> tuple[int, str]:
    """(seed, where it came from): GITHUB_RUN_ID when set, so every run (a rerun too) draws afresh
    and all of one run's jobs agree; else the UTC date. Never the gate's seed."""
    if run_id and run_id.strip():
        if not run_id.strip().isdigit():
            raise ValueError(f"GITHUB_RUN_ID {run_id!r} is not a number")
        number, source = int(run_id), f"GITHUB_RUN_ID {run_id.strip()}"
    else:
        number, source = int(today.strftime("%Y%m%d")), f"the date {today.isoformat()}"
    seed = number % _SEED_RANGE
    return (seed if seed != GATE_SEED else 1), source


def _key(record: dict) -> tuple[str, str]:
    return record["case_id"], record["target"]


def is_flaky(record: dict | None) -> bool:
    return bool(record and expectation_of(record).get("flaky"))


@dataclass
class Verdict:
    mode: str
    has_baseline: bool
    regressions: list[dict] = field(default_factory=list)
    ran_before: list[dict] = field(default_factory=list)
    new_cases: list[dict] = field(default_factory=list)
    flaky: list[dict] = field(default_factory=list)  # tonight's records of flaky cases
    flipped: list[str] = field(default_factory=list)  # flaky case ids whose status changed since the baseline

    @property
    def unexpected(self) -> list[dict]:
        return self.regressions + self.ran_before + self.new_cases

    @property
    def exit_status(self) -> int:
        return 1 if self.mode == "gate" and self.unexpected else 0

    def lines(self) -> list[str]:
        """The job summary's markdown bullets."""
        def names(records: list[dict]) -> str:
            shown = ", ".join(f"`{r['case_id']}` ({r['status']})" for r in records[:20])
            return shown + (f", … and {len(records) - 20} more" if len(records) > 20 else "")

        lines = []
        if self.mode == "explore":
            lines.append(f"- **new findings**: {len(self.unexpected)} unexpected outcomes no expectation "
                         "explains (see \"New findings\" below and in triage.md)" if self.unexpected
                         else "- no new finding: every outcome is one an expectation explains")
        else:
            if self.regressions:
                lines.append(f"- **regressions** (passed or failed as declared last night; a pass now failing as "
                             f"declared counts): {names(self.regressions)}")
            if self.ran_before:
                lines.append(f"- **unexpected on cases that ran last night**: {names(self.ran_before)}")
            if self.new_cases:
                what = "cases new tonight" if self.has_baseline else "unexpected outcomes (no baseline)"
                lines.append(f"- **{what}**: {names(self.new_cases)}")
        if self.flaky:
            flipped = f"; changed since the baseline: {', '.join(f'`{c}`' for c in self.flipped)}" if self.flipped else ""
            lines.append(f"- flaky (never judged): {len(self.flaky)} cases, "
                         + ", ".join(f"`{r['case_id']}` ({r['status']})" for r in self.flaky) + flipped)
        return lines


def judge(records: list[dict], baseline: list[dict] | None, mode: str) -> Verdict:
    """Sort tonight's unexpected outcomes by what the baseline said of each case."""
    if mode not in MODES:
        raise ValueError(f"mode {mode!r} is not one of {MODES}")
    before = {_key(r): r for r in baseline or []}
    verdict = Verdict(mode, baseline is not None)
    for record in records:
        old = before.get(_key(record))
        # A flaky case is let off only for the outcomes its entry explains (the bug showed, or
        # not); anything else on it, a crash or another wrong value, is judged like any case.
        if (is_flaky(record) or is_flaky(old)) and record["status"] not in UNEXPECTED:
            verdict.flaky.append(record)
            if old is not None and old["status"] != record["status"]:
                verdict.flipped.append(record["case_id"])
            continue
        if record["status"] not in UNEXPECTED:
            if old is not None and old["status"] == "pass" and record["status"] == "xfail":
                verdict.regressions.append(record)
            continue
        if old is None:
            verdict.new_cases.append(record)
        elif old["status"] in ("pass", "xfail"):
            verdict.regressions.append(record)
        else:
            verdict.ran_before.append(record)
    return verdict

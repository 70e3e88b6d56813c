"""Run a results directory's short repros and check that each ends with its record's status.

    python -m harness.short_verify DIR [--per-group N] [--jobs J] [--timeout SECONDS]

A short repro (harness.short_repro) stands for its case only if it reproduces it: run alone,
it must print `status: WORD` last with WORD the record's raw status (a `crash` record's repro
dies by a signal instead; a `timeout` record's runs out of time). Runs are slow (each imports
torch and TVM and compiles), so a run's verification is on demand here, not part of `harness
run`; `--per-group N` verifies at most N records per family and status, spread over the case ids.

Prints each disagreement, then per family (op rows, OpInfo, dynamic programs, models): failures,
short repros written, the reasons for the others, repros verified and agreeing, and the line
counts of the short repros (min, median, p90, max). Exit status 1 on any disagreement.
"""

from __future__ import annotations

import argparse
import collections
import math
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from harness.case import wants_repro
from harness.records import read_results

FAMILIES = ("op rows", "OpInfo", "dynamic", "models")


def family(record: dict) -> str:
    """Which case family a record came from, for display: models (static or dynamic batch), the
    dynamic programs, OpInfo samples (their `op` is `opinfo.<entry>`), the op table's rows."""
    if record["kind"] == "model" or (record["kind"] == "dynamic" and "task" in (record.get("meta") or {})):
        return "models"
    if record["kind"] == "dynamic":
        return "dynamic"
    return "OpInfo" if record["op"].startswith("opinfo.") else "op rows"


def raw_status(record: dict) -> str:
    return record.get("raw_status") or record["status"]


def verdict(record: dict, script: str, timeout: float) -> tuple[bool, str]:
    """(agrees, what the script ended with)."""
    want = raw_status(record)
    try:
        done = subprocess.run([sys.executable, script], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return want == "timeout", "no verdict within the time limit"
    if done.returncode < 0:
        return want == "crash", f"killed by signal {-done.returncode}"
    lines = done.stdout.strip().splitlines()
    last = lines[-1] if lines else (done.stderr.strip().splitlines() or ["no output"])[-1]
    return last == f"status: {want}", last


def line_count(path: str) -> int:
    return len(Path(path).read_text(encoding="utf-8").splitlines())


def percentile(values: list[int], share: float) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def spread(records: list[dict], per_group: int | None) -> list[dict]:
    """At most `per_group` records per (family, status), evenly spaced over their sorted case ids."""
    if per_group is None:
        return records
    groups: dict[tuple, list[dict]] = collections.defaultdict(list)
    for record in sorted(records, key=lambda r: (r["case_id"], r["target"])):
        groups[(family(record), raw_status(record))].append(record)
    chosen = []
    for members in groups.values():
        step = max(1, len(members) / per_group)
        chosen += [members[int(k * step)] for k in range(min(per_group, len(members)))]
    return chosen


def summary(failures: list[dict], checked: dict[str, tuple[bool, str]]) -> list[str]:
    lines = ["family     failures  short  none  verified  agree  lines: min median p90 max"]
    for name in FAMILIES:
        mine = [r for r in failures if family(r) == name]
        if not mine:
            continue
        written = [r for r in mine if r.get("short_repro") and Path(r["short_repro"]).is_file()]
        counts = [line_count(r["short_repro"]) for r in written]
        verified = [checked[r["short_repro"]] for r in written if r["short_repro"] in checked]
        figures = (f"{min(counts)} {percentile(counts, 0.5)} {percentile(counts, 0.9)} {max(counts)}"
                   if counts else "-")
        lines.append(f"{name:<10} {len(mine):>8} {len(written):>6} {len(mine) - len(written):>5} "
                     f"{len(verified):>9} {sum(ok for ok, _ in verified):>6}  {figures}")
        reasons = collections.Counter(r.get("short_repro_error") or "no short repro recorded"
                                      for r in mine if r not in written)
        lines += [f"    without: {n} x {reason}" for reason, n in reasons.most_common()]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.short_verify", description=__doc__.splitlines()[0])
    parser.add_argument("dir", type=Path)
    parser.add_argument("--per-group", type=int, help="verify at most N records per family and status")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args(argv)
    try:
        failures = [r for r in read_results(args.dir) if wants_repro(r)]
    except Exception as err:  # noqa: BLE001 - bad input is one line
        print(f"error: {err}", file=sys.stderr)
        return 2
    todo = [r for r in spread([r for r in failures if r.get("short_repro")], args.per_group)
            if Path(r["short_repro"]).is_file()]
    with ThreadPoolExecutor(max(1, args.jobs)) as pool:
        results = list(pool.map(lambda r: verdict(r, r["short_repro"], args.timeout), todo))
    checked = {r["short_repro"]: result for r, result in zip(todo, results, strict=True)}
    bad = 0
    for record, (ok, last) in zip(todo, results, strict=True):
        if not ok:
            bad += 1
            print(f"DISAGREES {record['case_id']} ({record['target']}): recorded {raw_status(record)}, "
                  f"the short repro ended with {last!r}\n    {record['short_repro']}")
    print("\n".join(summary(failures, checked)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

"""Batched and unbatched runs of the same cases must give the same verdicts, case by case.

    python -m tests.batch_identity OUT [--ops GLOB ...] [--batch N] [--jobs N]
    python -m tests.batch_identity --compare ALONE_DIR BATCHED_DIR

Runs the op cases (default: the whole quick op profile) twice, with `--batch 1` into
OUT/alone and with `--batch N` into OUT/batched, then compares every record's case id,
status, raw status, stage, error signature, the facets that differ (output and kind),
unsupported ops, graph ops and the expectation that explained it. Exit status 0 only when
they are identical and the batched run credited cases from batches.

Two things are printed but not held against a run, because two unbatched runs differ in them
too: the values inside a differing facet (how many elements, what TVM returned) where TVM reads
memory outside its buffers, and the signature of a failure whose declared expectation says that
no model can exist (`unmodelled`: every element is uninitialised memory, so even which facets
differ, NaN or not, changes from run to run), or of a dynamic program's constraint probe that
TVM ran silently wrong (it ran sizes outside the declared range, reading past its buffers). A
case whose expectation is `flaky` in either run (TVM reads memory outside what it wrote) may
also pass in one run and fail as declared in the other: that too is shown, not held against it.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from harness.pool import DEFAULT_BATCH
from harness.records import read_results

KEYS = ("status", "raw_status", "stage", "error_signature", "facet_kinds", "unsupported_ops", "aten_ops",
        "expectation")
# What uninitialised memory changes from run to run (see above): shown, never a difference.
DETAILS = ("facets", "error_signature")


def _verdict(record: dict) -> dict:
    kinds = [(f.get("output"), f["facet"]) for f in record.get("facets") or []]
    return {**{k: _plain(record.get(k)) for k in KEYS + DETAILS}, "facet_kinds": repr(kinds),
            "undefined": bool((record.get("expected") or {}).get("unmodelled"))
            or (record.get("probe") or {}).get("outcome") == "silent-wrong",
            "flaky": bool((record.get("expected") or {}).get("flaky"))
            and record["status"] in ("pass", "xfail")}


def verdicts(directory: Path) -> dict[str, dict]:
    return {r["case_id"]: _verdict(r) for r in read_results(directory / "results.jsonl")}


def _plain(value):
    return repr(value) if isinstance(value, list | dict) else value


def differences(alone: Path, batched: Path) -> tuple[list[str], list[str]]:
    """(differences, details): the verdicts that differ, and what differs only in undefined values."""
    a, b = verdicts(alone), verdicts(batched)
    lines = [f"only in {alone}: {k}" for k in sorted(a.keys() - b.keys())]
    lines += [f"only in {batched}: {k}" for k in sorted(b.keys() - a.keys())]
    details = []
    for case_id in sorted(a.keys() & b.keys()):
        x, y = a[case_id], b[case_id]
        undefined = x["undefined"] and y["undefined"]
        flaky = (x["flaky"] or y["flaky"]) and {x["status"], y["status"]} <= {"pass", "xfail"}
        for key in KEYS:
            if x[key] != y[key]:
                shown = flaky or (undefined and key in ("error_signature", "facet_kinds"))
                target = details if shown else lines
                target.append(f"{case_id}: {key} alone {x[key]!r} batched {y[key]!r}")
        if x["facets"] != y["facets"] and x["facet_kinds"] == y["facet_kinds"]:
            details.append(f"{case_id}: facet values alone {x['facets']!r} batched {y['facets']!r}")
    return lines, details


def _run(out: Path, ops: list[str], batch: int, jobs: int) -> None:
    # Exit status 1 (an unexpected outcome) is a verdict to compare, not a failure here.
    done = subprocess.run([sys.executable, "-m", "harness", "run", "--ops", *ops, "--out", str(out),
                           "--batch", str(batch), "--jobs", str(jobs)], check=False)
    if done.returncode not in (0, 1):
        raise SystemExit(f"harness run --batch {batch} failed with exit status {done.returncode}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.batch_identity", description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, nargs="?")
    parser.add_argument("--ops", nargs="*", default=[], metavar="GLOB")
    parser.add_argument("--batch", type=int, default=DEFAULT_BATCH)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--compare", type=Path, nargs=2, metavar=("ALONE", "BATCHED"))
    args = parser.parse_args(argv)
    if args.compare:
        alone, batched = args.compare
    elif args.out is None:
        parser.error("give OUT, or --compare ALONE BATCHED")
    else:
        alone, batched = args.out / "alone", args.out / "batched"
        _run(alone, args.ops, 1, args.jobs)
        _run(batched, args.ops, args.batch, args.jobs)
    lines, details = differences(alone, batched)
    records = read_results(batched / "results.jsonl")
    credited = sum(1 for r in records if r.get("batch"))
    for line in details:
        print(f"(undefined values) {line[:400]}")
    for line in lines:
        print(line[:400])
    print(f"{len(records)} records, {credited} credited from batches, {len(lines)} differences, "
          f"{len(details)} in values read from undefined memory")
    return 0 if not lines and credited else 1


if __name__ == "__main__":
    sys.exit(main())

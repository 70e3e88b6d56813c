"""Batched and unbatched runs of the same cases must give the same verdicts, case by case.

    python -m tests.batch_identity OUT [--ops GLOB ...] [--batch N] [--jobs N]
    python -m tests.batch_identity --compare ALONE_DIR BATCHED_DIR

Runs the op cases (default: the whole quick op profile) twice, with `--batch 1` into
OUT/alone and with `--batch N` into OUT/batched, then compares every record's case id,
status, raw status, stage, error signature, differing facets, unsupported ops and graph ops.
Exit status 0 only when they are identical and the batched run credited cases from batches.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from harness.records import read_results

KEYS = ("status", "raw_status", "stage", "error_signature", "facets", "unsupported_ops", "aten_ops",
        "expectation")


def verdicts(directory: Path) -> dict[str, tuple]:
    return {r["case_id"]: tuple(_plain(r.get(k)) for k in KEYS) for r in read_results(directory / "results.jsonl")}


def _plain(value):
    return repr(value) if isinstance(value, list | dict) else value


def differences(alone: Path, batched: Path) -> list[str]:
    a, b = verdicts(alone), verdicts(batched)
    lines = [f"only in {alone}: {k}" for k in sorted(a.keys() - b.keys())]
    lines += [f"only in {batched}: {k}" for k in sorted(b.keys() - a.keys())]
    for case_id in sorted(a.keys() & b.keys()):
        for key, x, y in zip(KEYS, a[case_id], b[case_id], strict=True):
            if x != y:
                lines.append(f"{case_id}: {key} alone {x!r} batched {y!r}")
    return lines


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
    parser.add_argument("--batch", type=int, default=16)
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
    lines = differences(alone, batched)
    records = read_results(batched / "results.jsonl")
    credited = sum(1 for r in records if r.get("batch"))
    for line in lines:
        print(line)
    print(f"{len(records)} records, {credited} credited from batches, {len(lines)} differences")
    return 0 if not lines and credited else 1


if __name__ == "__main__":
    sys.exit(main())

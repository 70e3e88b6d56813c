"""Whether two runs gave the same verdicts and the same repro programs.

    python -m reports.same_run BEFORE_DIR AFTER_DIR [--verbose]

Compares the records of two results directories case by case on (case_id, status, stage,
error_signature), and each failure's repro script on its program: the embedded program
factory's source (not the comment naming the module it came from), the factory called, and
the case's constants (seed, arguments, size, dynamic dims, decomposition, tolerance, target).
The arguments travel as a torch.save blob, which differs from save to save; they are compared
as values (tensors by dtype, shape, strides and bytes). Header comments, the comparison code and
property checks are not compared. A case whose expectation is `flaky` in either run (TVM reads
uninitialised memory, so its outputs, and with them the facets in its signature or pass against
xfail, change from run to run) is listed apart while both runs give it a declared outcome, as
the nightly gate lists it: it does not make the runs differ. So is the signature of a dynamic
program's constraint probe that TVM ran silently wrong in both runs (it ran a size outside the
declared range, reading past its buffers; a probe is never judged). Prints one summary line (with
--verbose, a line per difference before it); exits 0 when nothing differs, 1 when something
does, 2 for bad input.
"""

from __future__ import annotations

import argparse
import base64
import io
import re
import sys
from pathlib import Path

from harness.case import UNEXPECTED
from harness.records import ResultsError, expectation_of, read_results

VERDICT = ("status", "stage", "error_signature")
_CASE = re.compile(r"^# -+ the case\n(.*?)^def finish\(", re.M | re.S)
_FACTORY = re.compile(r"^# -+ program factory\n(.*?)^# -+ comparison\n", re.M | re.S)
_VERBATIM = re.compile(r"^# \(verbatim from module [\w.]+\)\n", re.M)
_CALL = re.compile(r"^    module, inputs = (\w+)\(\*\*KWARGS\)", re.M)
_BLOB = re.compile(r'base64\.b64decode\("([A-Za-z0-9+/=]*)"\)')


class SameRunError(Exception):
    """Bad input: a directory or a repro that cannot be read; one line."""


def _records(directory: Path) -> dict[str, dict]:
    if not directory.is_dir():
        raise SameRunError(f"{directory}: no such directory")
    try:
        return {r["case_id"]: r for r in read_results(directory)}
    except ResultsError as err:
        raise SameRunError(str(err)) from None


def _repro_path(directory: Path, record: dict) -> Path | None:
    """The record's repro script, found beside its results when the directory has moved."""
    if not record.get("repro"):
        return None
    path = Path(record["repro"])
    if path.exists():
        return path
    moved = directory / "repro" / record["target"] / path.name
    if moved.exists():
        return moved
    raise SameRunError(f"{record['case_id']}: repro {path} is missing")


def _value(value):
    """A comparable form of the torch.load'ed arguments: tensors as (dtype, shape, strides, bytes)."""
    import torch

    if isinstance(value, torch.Tensor):
        flat = torch.empty(value.numel(), dtype=value.dtype).copy_(value.detach().reshape(-1))
        data = flat.view(torch.uint8).numpy().tobytes() if value.numel() else b""
        return ("tensor", str(value.dtype), tuple(value.shape), value.stride(), data)
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(_value(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple((k, _value(v)) for k, v in value.items()))
    return ("value", repr(value))


def program(path: Path) -> tuple:
    """The program part of a repro script: the case's constants, the factory called, its source."""
    import torch

    text = path.read_text()
    case, factory, called = _CASE.search(text), _FACTORY.search(text), _CALL.search(text)
    if not (case and factory and called):
        raise SameRunError(f"{path}: not a repro script (no case, factory or call section)")
    try:
        blobs = [_value(torch.load(io.BytesIO(base64.b64decode(b)), weights_only=False))
                 for b in _BLOB.findall(case.group(1))]
    except Exception as err:  # noqa: BLE001 - a damaged blob is bad input, worded in one line
        raise SameRunError(f"{path}: its arguments cannot be read ({type(err).__name__}: {err})") from None
    constants = _BLOB.sub("BLOB", case.group(1))
    return constants, tuple(blobs), called.group(1), _VERBATIM.sub("", factory.group(1))


def _apart(was: dict, now: dict) -> bool:
    """A declared outcome in both runs with a flaky expectation in one of them, or a probe run
    silently wrong in both with the same status: what changes there is memory nobody wrote."""
    if all((r.get("probe") or {}).get("outcome") == "silent-wrong" for r in (was, now)):
        return was["status"] == now["status"]
    return (any(expectation_of(r).get("flaky") for r in (was, now))
            and not {was["status"], now["status"]} & UNEXPECTED)


def compare(before_dir: Path, after_dir: Path) -> tuple[list[str], dict]:
    """One line per difference, and the counts the summary reports (`flaky`: the lines of flaky
    cases and silently wrong probes that changed, which are not differences)."""
    before, after = _records(before_dir), _records(after_dir)
    lines = [f"missing: {case_id}" for case_id in sorted(set(before) - set(after))]
    lines += [f"new: {case_id}" for case_id in sorted(set(after) - set(before))]
    counts = {"records": 0, "verdicts": 0, "repros": 0, "programs": 0, "flaky": []}
    for case_id in sorted(set(before) & set(after)):
        was, now = before[case_id], after[case_id]
        counts["records"] += 1
        old, new = tuple(was.get(k) for k in VERDICT), tuple(now.get(k) for k in VERDICT)
        if _apart(was, now):
            if old != new:
                counts["flaky"].append(f"apart: {case_id}: {old} -> {new}")
            continue
        if old != new:
            counts["verdicts"] += 1
            lines.append(f"verdict: {case_id}: {old} -> {new}")
        paths = _repro_path(before_dir, was), _repro_path(after_dir, now)
        if paths == (None, None):
            continue
        counts["repros"] += 1
        if None in paths:
            lines.append(f"repro: {case_id}: only {'after' if paths[0] is None else 'before'} has one")
            counts["programs"] += 1
        elif program(paths[0]) != program(paths[1]):
            lines.append(f"program: {case_id}: {paths[0]} and {paths[1]} differ")
            counts["programs"] += 1
    counts["missing"] = len(set(before) - set(after))
    counts["new"] = len(set(after) - set(before))
    fields_before = set().union(*(r.keys() for r in before.values())) if before else set()
    fields_after = set().union(*(r.keys() for r in after.values())) if after else set()
    counts["fields_added"] = sorted(fields_after - fields_before)
    counts["fields_removed"] = sorted(fields_before - fields_after)
    return lines, counts


def summary(lines: list[str], counts: dict) -> str:
    fields = "".join([f"; fields only after: {', '.join(counts['fields_added'])}" if counts["fields_added"] else "",
                      f"; fields only before: {', '.join(counts['fields_removed'])}" if counts["fields_removed"] else ""])
    flaky = counts["flaky"]
    apart = (f"; listed apart (flaky cases, silently wrong probes): {len(flaky)} records changed ("
             + ", ".join(line.split(": ")[1] for line in flaky) + ")") if flaky else ""
    if not lines:
        return (f"same: {counts['records']} records with equal (case_id, status, stage, error_signature), "
                f"{counts['repros']} repro programs equal{fields}{apart}")
    return (f"differ: {counts['verdicts']} verdicts, {counts['programs']} repro programs, "
            f"{counts['missing']} cases missing after, {counts['new']} new "
            f"(of {counts['records']} shared records){fields}{apart}; first: {lines[0]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reports.same_run", description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="a results directory")
    parser.add_argument("after", type=Path, help="a results directory to compare with it")
    parser.add_argument("--verbose", action="store_true", help="a line per difference before the summary")
    args = parser.parse_args(argv)
    try:
        lines, counts = compare(args.before, args.after)
    except SameRunError as err:
        print(f"reports.same_run: error: {err}", file=sys.stderr)
        return 2
    if args.verbose:
        for line in counts["flaky"] + lines:
            print(line)
    print(summary(lines, counts))
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main())

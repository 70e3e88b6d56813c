"""A results table of the dynamic-shape programs, read from results.jsonl alone.

    python -m reports.dynamic_report RESULTS_DIR [--out FILE]

Markdown: the programs' verdicts, per op family and per program; per program its sizes and the status at each, the symbolic
check (declared dim -> torch symbol, the module's bounds) and the constraint probes; the
probe outcomes by what they broke; the failures grouped by error signature.
"""

from __future__ import annotations

import argparse
import collections
import re
import sys
from pathlib import Path

from harness.case import FAILURES
from harness.records import ResultsError, expectation_of, read_results, worst_status

_OUTSIDE = re.compile(r"^(\w+)=(\d+) outside \[(\d+), (\d+)\]$")


def programs(records: list[dict]) -> dict[str, list[dict]]:
    """The records of each dynamic program (kind "dynamic"), in the order they were written."""
    found: dict[str, list[dict]] = {}
    for record in records:
        if record["kind"] == "dynamic" and record.get("dynamic_case"):
            found.setdefault(record["dynamic_case"], []).append(record)
    return found


def _label(size: dict | None) -> str:
    return ",".join(f"{k}={v}" for k, v in (size or {}).items()) or "-"


def _verdict(runs: list[dict]) -> str:
    statuses = [r["status"] for r in runs if not r.get("probe")]
    return runs[0].get("dynamic_status") or worst_status(statuses) or "-"


def _dims(runs: list[dict]) -> str:
    dims = (runs[0].get("meta") or {}).get("dims")
    if dims:
        return " ".join(f"{k}∈[{lo},{hi}]" for k, (lo, hi) in dims.items())
    bounds = (runs[0].get("symbolic") or {}).get("bounds") or {}
    return " ".join(f"{k}∈[{lo},{hi}]" for k, (lo, hi) in bounds.items()) or "-"


def symbolic_cell(runs: list[dict]) -> str:
    """`ok b:s77[1,64]`, `FAILED: ...` when the check failed, or `-` when it never ran."""
    failed = next((r for r in runs if r.get("stage") == "symbolic" and r["status"] != "pass"), None)
    if failed is not None:
        return f"FAILED: {failed.get('error')}"
    check = next((r["symbolic"] for r in runs if r.get("symbolic")), None)
    if check is None:
        return "-"
    mapped = " ".join(f"{name}:{symbol}{check['bounds'].get(name, '')}".replace(" ", "")
                      for name, symbol in check["dims"].items())
    notes = f" ({'; '.join(check['notes'])})" if check.get("notes") else ""
    return f"ok {mapped}".strip() + notes


def probe_kind(probe: dict, size: dict | None) -> str:
    """What a probe broke: `relation`, `below min`, `above max` (by one), `far above max`."""
    kinds = []
    for text in probe.get("broken") or []:
        found = _OUTSIDE.match(text)
        if found is None:
            kinds.append("relation")
            continue
        value, lo, hi = (int(found.group(i)) for i in (2, 3, 4))
        kinds.append("below min" if value < lo else "above max" if value == hi + 1 else "far above max")
    return ", ".join(sorted(set(kinds))) or "nothing (a probe inside the constraints)"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def program_rows(found: dict[str, list[dict]]) -> list[str]:
    lines = ["| program | op | dims | verdict | runs: size status | symbolic check | probes: size outcome |",
             "|---|---|---|---|---|---|---|"]
    for case, runs in found.items():
        sizes = [r for r in runs if not r.get("probe")]
        probes = [r for r in runs if r.get("probe")]
        size_text = ", ".join(f"{_label(r.get('sizes'))} {r['status']}" for r in sizes)
        probe_text = ", ".join(f"{_label(r.get('sizes'))} {r['probe']['outcome']}" for r in probes) or "-"
        lines.append(f"| {_cell(case)} | {runs[0]['op']} | {_dims(runs)} | {_verdict(runs)} | "
                     f"{_cell(size_text)} | {_cell(symbolic_cell(runs))} | {_cell(probe_text)} |")
    return lines


def family_rows(found: dict[str, list[dict]]) -> list[str]:
    """Per op family (the case's `meta.family`; models by name): programs, size runs, verdicts."""
    families: dict[str, list[list[dict]]] = collections.defaultdict(list)
    for runs in found.values():
        families[(runs[0].get("meta") or {}).get("family") or runs[0]["op"]].append(runs)
    lines = ["| family | programs | size runs | verdicts |", "|---|---|---|---|"]
    for name, programs_of in sorted(families.items()):
        verdicts = collections.Counter(_verdict(runs) for runs in programs_of)
        size_runs = sum(1 for runs in programs_of for r in runs if not r.get("probe"))
        lines.append(f"| {name} | {len(programs_of)} | {size_runs} | "
                     + ", ".join(f"{s} {n}" for s, n in sorted(verdicts.items())) + " |")
    return lines


def probe_summary(found: dict[str, list[dict]]) -> list[str]:
    counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    errors: dict[tuple[str, str], collections.Counter] = collections.defaultdict(collections.Counter)
    for runs in found.values():
        for record in runs:
            probe = record.get("probe")
            if not probe:
                continue
            kind = probe_kind(probe, record.get("sizes"))
            counts[kind][probe["outcome"]] += 1
            if probe["outcome"] == "rejected":
                errors[(kind, record.get("error_signature") or "-")]["n"] += 1
    outcomes = ["rejected", "silent-correct", "silent-wrong", "not-run"]
    lines = ["| broken | " + " | ".join(outcomes) + " |", "|---|" + "---|" * len(outcomes)]
    for kind, counter in sorted(counts.items()):
        lines.append(f"| {kind} | " + " | ".join(str(counter.get(o, 0)) for o in outcomes) + " |")
    if errors:
        lines += ["", "Rejections, by error signature:", ""]
        for (kind, signature), counter in sorted(errors.items(), key=lambda kv: -kv[1]["n"]):
            lines.append(f"- {kind}, {counter['n']}x: `{_cell(signature)}`")
    return lines


def failure_groups(found: dict[str, list[dict]]) -> list[str]:
    groups: dict[str, dict] = {}
    for case, runs in found.items():
        for record in runs:
            if record.get("probe") or (record["status"] not in FAILURES and record["status"] not in ("xfail", "xpass")):
                continue
            signature = record.get("error_signature") or f"{record.get('stage')}: {record['status']}"
            group = groups.setdefault(signature, {"programs": {}, "statuses": collections.Counter(),
                                                  "reasons": set()})
            group["programs"].setdefault(case, []).append(_label(record.get("sizes")))
            group["statuses"][record["status"]] += 1
            if record.get("expectation"):
                group["reasons"].add(expectation_of(record).get("reason"))
    if not groups:
        return ["No failures."]
    lines = []
    for signature, group in sorted(groups.items(), key=lambda kv: (-len(kv[1]["programs"]), kv[0])):
        statuses = ", ".join(f"{s} {n}" for s, n in sorted(group["statuses"].items()))
        lines.append(f"- `{_cell(signature)}` ({statuses})")
        for case, sizes in group["programs"].items():
            lines.append(f"  - {case} at {'; '.join(sizes)}")
        for reason in sorted(group["reasons"]):
            lines.append(f"  - known: {reason}")
    return lines


def render(records: list[dict]) -> str:
    found = programs(records)
    if not found:
        return "No dynamic-shape records.\n"
    targets = sorted({r["target"] for runs in found.values() for r in runs})
    verdicts = collections.Counter(_verdict(runs) for runs in found.values())
    runs_count = sum(1 for runs in found.values() for r in runs if not r.get("probe"))
    probes_count = sum(1 for runs in found.values() for r in runs if r.get("probe"))
    lines = [f"# Dynamic-shape programs on {', '.join(targets)}", "",
             f"{len(found)} programs, {runs_count} size runs, {probes_count} constraint probes. "
             "Program verdicts (the worst status of its sizes): "
             + ", ".join(f"{s} {n}" for s, n in sorted(verdicts.items())) + ".", "",
             "## By family", ""]
    lines += family_rows(found)
    lines += ["", "## Programs", ""]
    lines += program_rows(found)
    lines += ["", "## Constraint probes", "",
              "What TVM does with sizes outside the declared constraints (probes are findings, "
              "not verdicts).", ""]
    lines += probe_summary(found)
    lines += ["", "## Failures by error signature", ""]
    lines += failure_groups(found)
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reports.dynamic_report", description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="a results directory (or its results.jsonl)")
    parser.add_argument("--out", type=Path, help="write the table here instead of printing it")
    args = parser.parse_args(argv)
    try:
        text = render(read_results(args.results))
    except ResultsError as err:
        print(f"reports.dynamic_report: error: {err}", file=sys.stderr)
        return 2
    if args.out:
        args.out.write_text(text)
        print(f"wrote {args.out}")
    else:
        print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())

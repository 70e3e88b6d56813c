"""The zoo's table, as markdown, from results.jsonl alone.

    python -m reports.zoo_report RESULTS_DIR [RESULTS_DIR ...] > table.md

Records are told apart by their `target` (llvm: the CPU columns; cuda: the CUDA compile
verdict), so the CPU and the CUDA run's directories are simply both given; a later
directory's record replaces an earlier one's for the same case (a re-run of a few models).
One row per model: its input, the verdict of each stage (`ok` up to the stage it stopped
at, then that stage's raw status; `·` for stages never reached), the final status (with
expectations applied), the error figures, seconds and peak memory, and the CUDA compile
verdict from the second directory. Dynamic-batch programs get a table of their own, and
every failure is listed below with its error and, if expected, the reason.
"""

from __future__ import annotations

import argparse
import collections
import fnmatch
import sys
from pathlib import Path

from harness.records import expectation_of, read_results
from models.zoo import ADVERTISED

STAGES = ("export", "decompose", "import", "compile", "run", "compare", "deploy")


def load(dirs: list[Path]) -> dict[str, dict[str, dict]]:
    """target -> case id -> its last record, over the directories in order."""
    by_target: dict[str, dict[str, dict]] = collections.defaultdict(dict)
    for directory in dirs:
        for record in read_results(directory):
            by_target[record["target"]][record["case_id"]] = record
    return by_target


def stage_cells(record: dict) -> list[str]:
    """A cell per stage: `ok` before the stage the case ended at, its verdict there, `·` after."""
    stage, raw = record.get("stage"), record.get("raw_status") or record["status"]
    if raw == "pass":
        return ["ok"] * len(STAGES)
    if stage not in STAGES:  # failed in eager (or before any stage)
        return ["·"] * len(STAGES)
    at = STAGES.index(stage)
    verdict = "no-gpu" if record.get("skip_reason") == "no-gpu" else raw
    return ["ok"] * at + [verdict] + ["·"] * (len(STAGES) - at - 1)


def _num(value, spec: str) -> str:
    return format(value, spec) if isinstance(value, int | float) else "–"


def _input(record: dict) -> str:
    shapes = record.get("input_shapes") or []
    if not shapes:
        return record.get("meta", {}).get("input", "?")
    first = shapes[0]
    label = "x".join(str(d) for d in first)
    return f"{len(shapes)}×{label}" if len(shapes) > 1 and all(s == first for s in shapes) else label


def cuda_verdict(record: dict | None) -> str:
    if record is None:
        return "not run"
    raw = record.get("raw_status") or record["status"]
    if raw == "pass" or record.get("skip_reason") == "no-gpu":
        return "compiles" if raw != "pass" else "pass"
    verdict = f"{raw} ({record.get('stage')})"
    return f"{record['status']}: {verdict}" if record["status"] != raw else verdict


def _peak(record: dict) -> float | None:
    peaks = [v for v in (record.get("peak_rss_mb") or {}).values() if isinstance(v, int | float)]
    return max(peaks) if peaks else None


def model_rows(cpu: dict[str, dict], cuda: dict[str, dict]) -> list[str]:
    header = ("| model | task | input | " + " | ".join(STAGES) + " | status | max rel err | rel L2 "
              "| cosine | seconds | peak MB | CUDA compile |")
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    for case_id, r in sorted(cpu.items(), key=lambda item: item[1]["op"]):
        if r["kind"] != "model":
            continue
        cells = stage_cells(r)
        lines.append(
            f"| {r['op']} | {r.get('meta', {}).get('task', '')} | {_input(r)} | " + " | ".join(cells)
            + f" | {r['status']} | {_num(r.get('max_rel_err'), '.1e')} | {_num(r.get('rel_l2_err'), '.1e')}"
            f" | {_num(r.get('cosine'), '.6f')} | {_num((r.get('seconds') or {}).get('total'), '.1f')}"
            f" | {_num(_peak(r), '.0f')} | {cuda_verdict(cuda.get(case_id))} |")
    return lines


def dynamic_rows(cpu: dict[str, dict], cuda: dict[str, dict]) -> list[str]:
    records = [r for r in cpu.values() if r["kind"] == "dynamic"]
    if not records:
        return []
    lines = ["| program @ size | " + " | ".join(STAGES) + " | status | rel L2 | cosine | seconds "
             "| CUDA compile |", "|" + "---|" * (len(STAGES) + 6)]
    for r in sorted(records, key=lambda r: r["case_id"]):
        lines.append(f"| {r['case_id']} | " + " | ".join(stage_cells(r)) + f" | {r['status']} | "
                     f"{_num(r.get('rel_l2_err'), '.1e')} | {_num(r.get('cosine'), '.6f')} | "
                     f"{_num((r.get('seconds') or {}).get('total'), '.1f')} | "
                     f"{cuda_verdict(cuda.get(r['case_id']))} |")
    return lines


def failure_notes(cpu: dict[str, dict], cuda: dict[str, dict]) -> list[str]:
    """Failures grouped by verdict and cause: one line per cause, naming every case it hits."""
    groups: dict[tuple, list[str]] = collections.defaultdict(list)
    for label, records in (("CPU", cpu), ("CUDA", cuda)):
        for r in sorted(records.values(), key=lambda r: r["case_id"]):
            raw = r.get("raw_status") or r["status"]
            if raw in ("pass", "skip"):
                continue
            reason = expectation_of(r).get("reason")
            key = (r["status"], raw, r.get("stage"), reason or r.get("error_signature") or r.get("error"))
            groups[key].append(f"{r['case_id']} ({label})")
    lines = []
    for (status, raw, stage, cause), cases in groups.items():
        text = (cause or "").replace("|", "\\|")[:600]
        lines.append(f"- {status} ({raw} at {stage}), {len(cases)} cases: {', '.join(cases)}. "
                     + (f"Expected: {text}" if status == "xfail" else f"`{text}`"))
    return lines


def advertised(cpu: dict[str, dict], cuda: dict[str, dict]) -> list[str]:
    """The verdicts of the families the importer advertises, model by model."""
    lines = ["| family | models | CPU | CUDA compile |", "|---|---|---|---|"]
    for family, pattern in ADVERTISED.items():
        chosen = sorted((r for r in cpu.values() if r["kind"] == "model" and fnmatch.fnmatchcase(r["op"], pattern)),
                        key=lambda r: r["op"])
        verdicts = collections.Counter(r["status"] for r in chosen)
        compiled = collections.Counter(cuda_verdict(cuda.get(r["case_id"])) for r in chosen)
        lines.append(f"| {family} | {', '.join(r['op'] for r in chosen)} | "
                     + ", ".join(f"{s} {n}" for s, n in sorted(verdicts.items())) + " | "
                     + ", ".join(f"{s} {n}" for s, n in sorted(compiled.items())) + " |")
    return lines


def counts(records: dict[str, dict]) -> str:
    tally = collections.Counter(r["status"] for r in records.values())
    return ", ".join(f"{status} {n}" for status, n in sorted(tally.items()))


def render(dirs: list[Path]) -> str:
    by_target = load(dirs)
    cpu, cuda = by_target.get("llvm", {}), by_target.get("cuda", {})
    first = next(iter(cpu.values()), {})
    out = [f"# TorchVision zoo through TVM (torch {first.get('torch_version')}, TVM "
           f"{first.get('tvm_version')})", "",
           f"CPU (llvm), {len(cpu)} records: {counts(cpu)}  "]
    if cuda:
        out.append(f"CUDA (compile only where no GPU), {len(cuda)} records: {counts(cuda)}")
    out += ["", "max rel err is elementwise over nonzero reference elements; rel L2 is "
            "||tvm - eager|| / ||eager||; cosine is the worst output's; seconds are the case's "
            "total, peak MB the worker's resident-memory high-water mark over the stages (an upper bound: "
            "it includes what the worker still holds from the cases it ran before). CUDA compile: "
            "`compiles` when tvm.compile for CUDA succeeded and only the missing GPU stopped the run.",
            "",
            "## Advertised families", ""]
    out += advertised(cpu, cuda)
    out += ["", "## Every model", ""]
    out += model_rows(cpu, cuda)
    dynamic = dynamic_rows(cpu, cuda)
    if dynamic:
        out += ["", "## Dynamic batch", ""] + dynamic
    notes = failure_notes(cpu, cuda)
    if notes:
        out += ["", "## Failures", ""] + notes
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reports.zoo_report", description=__doc__.splitlines()[0])
    parser.add_argument("dirs", type=Path, nargs="+", metavar="RESULTS_DIR",
                        help="results directories (CPU and CUDA runs; later ones override)")
    args = parser.parse_args(argv)
    sys.stdout.write(render(args.dirs))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Join shard outputs into one results directory.

Shards of one run (`--shard I/N`), runs of one suite on different targets (a CPU and a CUDA
machine) and runs through different frontends (`--frontend`) merge alike: a record is known by
its case id, target and frontend, so the same case on two targets or through two frontends is two
records, and the same case on one target through one frontend in two directories is an error. The
shards must agree on profile, seed and convert map (the same cases only then). Repro scripts are
copied and the records point to the copies, so the merged directory stands on its own; the
shards' shrunk examples (minimal.jsonl) are joined alike.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from harness.records import MINIMAL_FILE, RESULTS_FILE, ResultsWriter, frontend_of, read_results


class MergeError(Exception):
    pass


def _json(path: Path) -> dict | None:
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise MergeError(f"{path}: corrupt ({err.msg})") from None


def _relocate(record: dict, out: Path) -> dict:
    """Point a record's repros at the copies in `out` (repro/<target>/<file>), when they were copied."""
    for key in ("repro", "short_repro"):
        repro = record.get(key)
        if repro:
            copy = out / "repro" / record["target"] / Path(repro).name
            if copy.is_file():
                record[key] = str(copy)
    return record


def merge(dirs: list[Path], out: Path) -> int:
    """Concatenate the shards' records (sorted by case id and target), refusing overlaps; returns the count."""
    records, owner, minimal = [], {}, []
    runs, environments = [], []
    for directory in dirs:
        for record in read_results(directory):
            key = (record["case_id"], record["target"], frontend_of(record))
            if key in owner:
                through = f" through {key[2]}" if key[2] != "export" else ""
                raise MergeError(f"case {key[0]} on {key[1]}{through} is in both {owner[key]} and {directory}")
            owner[key] = directory
            records.append(record)
        if (Path(directory) / MINIMAL_FILE).is_file():
            minimal += read_results(Path(directory) / MINIMAL_FILE)
        if (run := _json(Path(directory) / "run.json")) is not None:
            runs.append(run)
        if (environment := _json(Path(directory) / "environment.json")) is not None:
            environments.append(environment)
    for key in ("profile", "seed", "convert_map"):
        values = {r.get(key) for r in runs}
        if len(values) > 1:
            raise MergeError(f"shards disagree on {key}: {sorted(map(str, values))}")
    out.mkdir(parents=True, exist_ok=True)
    target = out / RESULTS_FILE
    if target.exists():
        raise MergeError(f"{target} exists; merge into a new directory")
    for directory in dirs:
        repro_dir = Path(directory) / "repro"
        if repro_dir.is_dir():
            shutil.copytree(repro_dir, out / "repro", dirs_exist_ok=True)
    records.sort(key=lambda r: (r["case_id"], r["target"], frontend_of(r)))
    with ResultsWriter(target) as writer:
        writer.write(_relocate(r, out) for r in records)
    if minimal:
        with ResultsWriter(out / MINIMAL_FILE) as writer:
            writer.write(_relocate(r, out) for r in minimal)
    targets = sorted({r.get("target") for r in runs} | {r["target"] for r in records}, key=str)
    if runs:
        # `target` names every target merged (`cuda+llvm`), so --resume refuses a merged directory.
        run = {**runs[0], "out": str(out), "target": "+".join(map(str, targets)), "resume": False,
               "merged_from": [str(d) for d in dirs]}
        frontends = sorted({r.get("frontend", "export") for r in runs} | {frontend_of(r) for r in records})
        if len(frontends) > 1:  # as for targets: a directory of several roads cannot be resumed
            run["frontend"] = "+".join(frontends)
        (out / "run.json").write_text(json.dumps(run, indent=2) + "\n")
    if environments:
        environment = dict(environments[0])
        if len(targets) > 1:
            environment["target"] = "+".join(map(str, targets))
        others = [e for e in environments[1:] if e != environments[0]]
        if others:
            environment["merged_environments"] = environments
        (out / "environment.json").write_text(json.dumps(environment, indent=2) + "\n")
    return len(records)

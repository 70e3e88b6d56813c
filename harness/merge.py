"""Join shard outputs into one results directory."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from harness.records import RESULTS_FILE, ResultsWriter, read_results


class MergeError(Exception):
    pass


def merge(dirs: list[Path], out: Path) -> int:
    """Concatenate the shards' records (sorted by case id), refusing overlaps; returns the count."""
    records, owner = [], {}
    runs = []
    for directory in dirs:
        for record in read_results(directory):
            if record["case_id"] in owner:
                raise MergeError(f"case {record['case_id']} is in both {owner[record['case_id']]} and {directory}")
            owner[record["case_id"]] = directory
            records.append(record)
        run_file = Path(directory) / "run.json"
        if run_file.exists():
            runs.append(json.loads(run_file.read_text()))
    for key in ("target", "profile", "seed"):
        values = {r.get(key) for r in runs}
        if len(values) > 1:
            raise MergeError(f"shards disagree on {key}: {sorted(map(str, values))}")
    out.mkdir(parents=True, exist_ok=True)
    target = out / RESULTS_FILE
    if target.exists():
        raise MergeError(f"{target} exists; merge into a new directory")
    records.sort(key=lambda r: r["case_id"])
    with ResultsWriter(target) as writer:
        writer.write(records)
    first = Path(dirs[0])
    for name in ("environment.json", "run.json"):
        if (first / name).exists():
            shutil.copy(first / name, out / name)
    for directory in dirs:
        repro_dir = Path(directory) / "repro"
        if repro_dir.is_dir():
            shutil.copytree(repro_dir, out / "repro", dirs_exist_ok=True)
    return len(records)

"""One line of summary figures per run, kept in DIR/history.jsonl, for the trend in the HTML.

Where it lives: in the run's own directory, so a report writes nowhere outside DIR. It travels
forward through the baseline: `harness report DIR --baseline OLD` starts DIR's history from
OLD/history.jsonl (the lineage of earlier nights) and adds DIR's line, so a nightly job that
keeps last night's directory as its baseline also keeps the whole history, with no shared
file to lock or lose (a baseline without a history seeds it with the baseline's own line).
Without a baseline, DIR's existing history is kept.

A run appears once: re-rendering a directory, or resuming its run, replaces its own line. The
run is known by a hash of its directory's path and its first record line: a resumed run keeps
both, another night in the same path (nightly jobs reuse theirs) has another first record
(timings to the microsecond).
"""

from __future__ import annotations

import datetime
import hashlib
import json
from pathlib import Path

from harness.records import ResultsError

HISTORY_FILE = "history.jsonl"


def read(directory: Path) -> list[dict]:
    path = Path(directory) / HISTORY_FILE
    if not path.exists():
        return []
    lines = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            lines.append(json.loads(line))
        except json.JSONDecodeError as err:
            raise ResultsError(f"{path}:{number}: corrupt history line ({err.msg})") from None
    return lines


def run_id(directory: Path) -> str:
    with open(Path(directory) / "results.jsonl", "rb") as f:
        first = f.readline()
    return hashlib.sha1(str(Path(directory).resolve()).encode() + b"\n" + first).hexdigest()[:12]


def entry(directory: Path, summary: dict) -> dict:
    results = Path(directory) / "results.jsonl"
    finished = datetime.datetime.fromtimestamp(results.stat().st_mtime, datetime.UTC)
    return {
        "id": run_id(directory),
        "run": Path(directory).resolve().name,
        "finished": finished.isoformat(timespec="seconds"),
        "versions": summary["versions"],
        "cases": summary["cases"],
        "statuses": {s: n for s, n in summary["statuses"].items() if n},
        "unexpected": summary["unexpected"],
        "bugs": summary["bugs"],
        "full": {d: c["full"] for d, c in summary["denominators"].items()},
    }


def update(directory: Path, summary: dict, baseline: Path | None = None,
           baseline_summary: dict | None = None) -> list[dict]:
    """DIR's history with this run's line last; written back to DIR/history.jsonl."""
    line = entry(directory, summary)
    if baseline is None:
        earlier = read(directory)
    else:
        earlier = read(baseline) or ([entry(baseline, baseline_summary)] if baseline_summary else [])
    lines = [e for e in earlier if e.get("id") != line["id"]] + [line]
    path = Path(directory) / HISTORY_FILE
    path.write_text("".join(json.dumps(e, sort_keys=True) + "\n" for e in lines))
    return lines

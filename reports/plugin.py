"""The interface the engine calls: render a results directory, report on it against a baseline."""

from __future__ import annotations

import collections
import json
from pathlib import Path

from harness.records import read_results

# A status is worse the further down this list it stands; used to find regressions.
_RANK = ["pass", "xfail", "skip", "mismatch", "export_error", "import_unsupported", "import_error",
         "compile_error", "run_error", "timeout", "crash", "xpass"]


def _counts(records: list[dict]) -> dict[str, int]:
    return dict(sorted(collections.Counter(r["status"] for r in records).items()))


class Plugin:
    def render(self, out: Path) -> list[Path]:
        out = Path(out)
        records = read_results(out)
        by_op: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        for r in records:
            by_op[r["op"]][r["status"]] += 1
        lines = ["# Coverage", "", "statuses: " + ", ".join(f"{k}={v}" for k, v in _counts(records).items()),
                 "", "| op | statuses |", "|---|---|"]
        for op in sorted(by_op):
            lines.append(f"| `{op}` | " + ", ".join(f"{k} {v}" for k, v in sorted(by_op[op].items())) + " |")
        md = out / "coverage.md"
        md.write_text("\n".join(lines) + "\n")
        summary = out / "summary.json"
        summary.write_text(json.dumps({"statuses": _counts(records), "cases": len(records)}, indent=2) + "\n")
        return [md, summary]

    def report(self, directory: Path, baseline: Path | None) -> int:
        records = read_results(directory)
        print("statuses: " + ", ".join(f"{k}={v}" for k, v in _counts(records).items()))
        if baseline is None:
            return 0
        old = {r["case_id"]: r for r in read_results(baseline)}
        regressions = [r for r in records if r["case_id"] in old
                       and _RANK.index(r["status"]) > _RANK.index(old[r["case_id"]]["status"])]
        for r in regressions:
            print(f"regression: {r['case_id']}: {old[r['case_id']]['status']} -> {r['status']}")
        return 1 if regressions else 0


plugin = Plugin()

"""The interface the engine calls through the `harness.reports` entry point.

    render(DIR) -> paths        after `harness run` and `harness merge`
    report(DIR, OLD|None) -> 0|1  `harness report DIR [--baseline OLD]`: 1 on any regression
    issue_drafts(DIR) -> (drafts, skipped)  `harness report DIR --issues` (reports.issues)

Both write every output into DIR, computed from DIR/results.jsonl (and OLD/results.jsonl):

    coverage.md    summary, diff, ops and models not fully passing, largest bugs (CI job summary);
                   for a nightly exploration, its new findings first (reports.findings)
    coverage.html  the whole matrix, self-contained: filters, sorting, links to cases and repros
    coverage.csv   the whole matrix, a line per row
    summary.json   the summary figures (the same for the same records, wherever rendered)
    triage.md      every distinct failure, with its smallest example's repro
    junit.xml      a testcase per record, for CI systems
    history.jsonl  a line of summary figures per run (see reports.history)
    diff.md, diff.json  with a baseline only; removed otherwise, so a stale diff never lingers

Bad input (a corrupt results file or fingerprint, a baseline without results) raises
harness.records.ResultsError, which the command line turns into one line and exit status 2.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from reports import diff as diffing
from reports import (
    differential,
    history,
    junit,
    matrix,
    render_csv,
    render_html,
    render_md,
    summary,
    triage,
)
from reports.findings import findings as new_findings
from reports.findings import is_exploration
from reports.load import load


@dataclass
class Rendered:
    paths: list[Path]
    summary: dict
    diff: diffing.Diff | None


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def build(directory: Path, baseline: Path | None = None) -> Rendered:
    directory = Path(directory)
    run = load(directory)
    table = matrix.build(run)
    bugs = triage.bugs(run)
    figures = summary.summarise(run, table, bugs)
    diff, old_figures = None, None
    if baseline is not None:
        old_run = load(baseline)
        old_table = matrix.build(old_run)
        old_figures = summary.summarise(old_run, old_table, triage.bugs(old_run))
        diff = diffing.compare(old_run, run, old_table, table)
    runs = history.update(directory, figures, baseline, old_figures)
    label = str(baseline) if baseline is not None else None
    stale = triage.stale(run)
    found = new_findings(run, bugs) if is_exploration(run) else None
    roads = differential.frontends(run.records)
    splits = differential.splits(run.records) if len(roads) > 1 else []
    left = differential.left_out_lines(run.records) if len(roads) > 1 else []

    paths = [
        _write(directory / "coverage.md",
               render_md.coverage(figures, table, bugs, diff, label, found, splits, roads, left)),
        _write(directory / "triage.md", render_md.triage(bugs, stale, found, figures, splits, roads, left)),
        _write(directory / "coverage.html",
               render_html.page(figures, table, run, bugs, stale, runs, diff, label)),
        render_csv.write(table, directory / "coverage.csv"),
        _write(directory / "summary.json", json.dumps(figures, indent=2, sort_keys=True) + "\n"),
        junit.write(run, directory / "junit.xml"),
        directory / history.HISTORY_FILE,
    ]
    if diff is not None:
        paths.append(_write(directory / "diff.md", render_md.diff_page(diff, label)))
        paths.append(_write(directory / "diff.json", json.dumps(diff.to_json(), indent=2) + "\n"))
    else:
        for name in ("diff.md", "diff.json"):
            (directory / name).unlink(missing_ok=True)
    return Rendered(paths, figures, diff)


class Plugin:
    def render(self, out: Path) -> list[Path]:
        return build(Path(out)).paths

    def report(self, directory: Path, baseline: Path | None) -> int:
        rendered = build(Path(directory), baseline)
        print(summary.headline(rendered.summary))
        for path in rendered.paths:
            print(f"wrote {path}")
        diff = rendered.diff
        if diff is None:
            return 0
        counts = diff.counts()
        print("against the baseline: " + ", ".join(f"{k.replace('_', ' ')} {n}" for k, n in counts.items()))
        for change in diff.regressions:
            print(f"regression: {change.case_id} ({change.target}): {change.before} -> {change.after}"
                  + (f": {change.error}" if change.error else ""))
        for change in diff.op_regressions:
            print(f"regression: op {change.op}: {change.before} -> {change.after} over the cases both runs share")
        return 1 if diff.regressed else 0

    def issue_drafts(self, directory: Path):
        """(drafts, skipped): one bug-report draft per TVM defect; the caller confirms each."""
        from reports import issues

        return issues.drafts(Path(directory))


plugin = Plugin()

"""Results -> coverage matrix, triage, diff against a baseline, rendering (pandas lives here).

Computed from DIR/results.jsonl (and the fingerprint beside it) alone; never runs a case. The
denominators are read from the installed libraries through opsuite.coverage and the case
families' declarations (read-only imports).

    load.py         a results directory: records, probes, fingerprint; per-record outcome and column
    universe.py     the matrix's rows: convert-map keys, core ATen overloads, reached overloads, OpInfo
                    entries, models
    matrix.py       cells per target x dtype (and dynamic), grades full/partial/compiles/unproven/none, uses
    triage.py       failures grouped by error signature, smallest example and its repro
    findings.py     a nightly exploration's new findings: unexpected outcomes with their shrunk example
    summary.py      the summary figures (summary.json)
    diff.py         the nightly diff against a baseline: regressions, fixes, new, vanished, signatures
    history.py      one line per run in DIR/history.jsonl, carried forward through the baseline
    render_md.py    coverage.md, triage.md, diff.md
    render_html.py  coverage.html (with html_assets.py: its inline CSS and JS)
    render_csv.py   coverage.csv
    junit.py        junit.xml
    issues.py       upstream-ready bug-report drafts, one per triage row (`report --issues`)
    plugin.py       `plugin`: what `harness run|merge|report` call through the `harness.reports` entry point

Results tables of their own, run by hand:
    dynamic_report.py  `python -m reports.dynamic_report DIR`: the dynamic-shape programs, size by size
    zoo_report.py      `python -m reports.zoo_report DIR...`: the model zoo (models/RESULTS.md)
    same_run.py        `python -m reports.same_run BEFORE AFTER`: whether two runs gave the same verdicts
                       and repro programs
"""

from reports.plugin import plugin

__all__ = ["plugin"]

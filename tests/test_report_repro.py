"""Triage's repro scripts, from a real run of the op suite, reproduce the recorded status.

The run uses the real `ops` family through the command line, with a converter that computes cos
where sin was asked for, so failures are certain whatever the op table holds; the report's
smallest examples are then run standalone, with only torch and TVM (and the convert map).
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import main
from harness.records import read_results
from reports import load, triage

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_smallest_examples_reproduce_their_status(tmp_path):
    out = tmp_path / "run"
    code = main(["run", "--ops", "aten.sin.default", "--convert-map", "tests.converters:WRONG", "--jobs", "1",
                 "--out", str(out)])
    assert code == 1, "cos for sin must fail unexpectedly"
    assert (out / "coverage.html").exists() and (out / "triage.md").exists(), "run renders the reports"
    bugs = triage.bugs(load.load(out))
    assert any(b.statuses.get("mismatch") for b in bugs)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for bug in bugs[:3]:
        script = out / bug.example_repro
        assert script.is_file(), bug.id
        assert f"`python {bug.example_repro}`" in (out / "triage.md").read_text()
        done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=ROOT, env=env,
                              timeout=300)
        expected = bug.example.get("raw_status") or bug.example["status"]
        assert done.stdout.strip().splitlines()[-1] == f"status: {expected}", done.stdout + done.stderr
        assert done.returncode == 1
    assert all(r["repro"] is None for r in read_results(out) if r["status"] == "pass")

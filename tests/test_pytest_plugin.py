"""The pytest plugin: each record's status maps to a pytest outcome, and several xdist processes
append to one results file without losing or tearing a line."""

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.records import read_results
from tests.plugin_items import OUTCOMES

ROOT = Path(__file__).resolve().parent.parent


def _outcome(testcase: ET.Element) -> str:
    for child in testcase:
        if child.tag in ("failure", "error"):
            return "failed"
        if child.tag == "skipped":
            return "xfailed" if child.get("type") == "pytest.xfail" else "skipped"
    return "passed"


@pytest.mark.slow
def test_records_map_to_pytest_outcomes_and_xdist_processes_share_one_results_file(tmp_path):
    out, junit = tmp_path / "out", tmp_path / "junit.xml"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/plugin_items.py", "-n", "2", "-q", "-p", "no:cacheprovider",
         "--harness-out", str(out), "--harness-convert-map", "tests.converters:WRONG", f"--junitxml={junit}"],
        capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=900)
    assert done.returncode == 1, done.stdout + done.stderr  # two items fail: the run fails
    testcases = ET.parse(junit).getroot().iter("testcase")
    outcomes = {t.get("name").removeprefix("test_case[").removesuffix("]"): _outcome(t) for t in testcases}
    assert outcomes == OUTCOMES

    lines = (out / "results.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["case_id"] for line in lines) == sorted(OUTCOMES)
    statuses = {r["case_id"]: r["status"] for r in read_results(out)}
    assert statuses == {"aten.add.Tensor[float32-0]": "pass", "aten.sin.default[float32-wrong]": "mismatch",
                        "aten.sin.default[float32-declared]": "xfail", "aten.add.Tensor[float32-stale]": "xpass",
                        "test.refused[float32-0]": "skip"}
    # Both xdist processes ran cases, each with a worker of its own (and a log folder of its own).
    assert sorted(p.name for p in (out / "logs").iterdir()) == ["gw0", "gw1"]

"""`harness report DIR --issues`: one upstream-ready draft per defect, written only if it reproduces.

The defects are real runs through deliberately wrong converters (tests/converters.py:DRAFTS):
sin computes cos on every run; cos computes sin only while HARNESS_TEST_FAULT is set, i.e. during
the run and never when its repro runs afterwards, so its draft must be listed and not written.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from harness import converters

ROOT = Path(__file__).resolve().parent.parent


def _harness(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, **(env or {})}, timeout=900, check=False)


@pytest.mark.slow
def test_drafts_are_written_only_when_they_reproduce(tmp_path):
    out = tmp_path / "run"
    done = _harness("run", "--ops", "aten.sin.default[float32-0]", "aten.cos.default[float32-0]",
                    "--jobs", "1", "--out", str(out), "--convert-map", "tests.converters:DRAFTS",
                    env={"HARNESS_TEST_FAULT": "1"})
    assert done.returncode == 1, done.stdout + done.stderr  # two unexpected mismatches
    environment = {k: v for k, v in os.environ.items() if k != "HARNESS_TEST_FAULT"}
    done = subprocess.run([sys.executable, "-m", "harness", "report", str(out), "--issues"],
                          capture_output=True, text=True, cwd=ROOT, env=environment, timeout=900, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "wrote 1 bug-report drafts" in done.stdout and "1 not written" in done.stdout

    issues = out / "issues"
    written = sorted(p.name for p in issues.glob("*.md") if p.name != "index.md")
    assert len(written) == 1 and "aten.sin.default-mismatch" in written[0], written
    text = (issues / written[0]).read_text()
    assert text.startswith("# [Bug][Relax][Frontend][Torch] aten.sin.default: wrong")
    for section in ("### Expected behavior", "### Actual behavior", "### Environment",
                    "### Steps to reproduce", "### Triage"):
        assert section in text, f"missing {section}"
    assert "- torch 2.14.1" in text and "- target: `llvm`" in text and "git commit:" in text
    # The whole repro script is inline, and the run of it is recorded.
    record_repro = next(out.glob("repro/llvm/aten.sin.default*.py")).read_text()
    assert record_repro.rstrip("\n") in text
    assert "Confirmed:" in text and "status: mismatch" in text
    # The converter involved, with its file and line in the installed TVM.
    found = converters.converter_of("aten.sin.default")
    assert f"`{found.source_path()}`" in text and f"`{found.where()}`" in text
    assert re.search(r"`python/tvm/relax/frontend/torch/\w+\.py:\d+`", text)
    assert "1 case (mismatch 1) over 1 op; dtypes: float32" in text

    index = (issues / "index.md").read_text()
    assert "aten.cos.default" in index and "did not reproduce" in index and "status: pass" in index


def test_reports_never_run_anything():
    source = (ROOT / "reports" / "issues.py").read_text()
    assert "subprocess" not in source and "os.system" not in source

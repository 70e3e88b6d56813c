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


def test_draft_uses_facets_short_repro_shrunk_case_and_link(tmp_path):
    """Rendering alone, from hand-made records: the shrunk case's short repro, the differing
    facets as a table, the declared upstream link; torch.export's own failures get no draft."""
    from harness.records import ResultsWriter
    from reports import issues
    from tests.crafted import record, write_dir

    link = "https://github.com/apache/tvm/issues/1"
    facets = [{"output": 0, "facet": "dtype", "expected": "float64", "got": "float32"}]
    big = record("aten.sin.default[float64-0]", "aten.sin.default", "xfail", dtype="float64", raw="mismatch",
                 input_shapes=[[40, 40]], facets=facets,
                 expectation={"reason": "sin computes in float32", "link": link})
    torch_side = record("aten.cos.default[float32-0]", "aten.cos.default", "export_error")
    directory = write_dir(tmp_path / "run", [big, torch_side], repros=True)
    short = "import torch\nprint('status: mismatch')\nraise SystemExit(1)\n"
    shrunk = record("aten.sin.default[float64-0-min]", "aten.sin.default", "mismatch", dtype="float64",
                    input_shapes=[[1]], facets=facets, short_repro=short,
                    shrunk_from="aten.sin.default[float64-0]")
    with ResultsWriter(directory / issues.MINIMAL_FILE) as writer:
        writer.write([shrunk])

    drafts, skipped = issues.drafts(directory)
    assert len(drafts) == 1 and len(skipped) == 1 and "torch.export's failure" in skipped[0]
    (draft,) = drafts
    assert draft.script == short and draft.expect_status == "mismatch"
    assert draft.title == "[Bug][Relax][Frontend][Torch] aten.sin.default: wrong dtype"
    body = draft.render("CONFIRMED")
    assert "| 0 | dtype | float64 | float32 |" in body
    assert "shrunk from `aten.sin.default[float64-0]`" in body and short.rstrip() in body
    assert f"- {link}" in body and "Known failure, as declared: sin computes in float32" in body
    assert "CONFIRMED" in body and issues.CONFIRMATION not in body

"""A failure through fx or dynamo ships repro scripts that follow that road: the doctored FX
converter reaches the full one through the convert map and it prints the mismatch, without the
map the same script passes; the short form follows the road too; through dynamo a graph break is
reported as one, never as a pass."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from harness.case import Case, Program
from tests import factories
from tests.helpers import op_case, run, sin_case

ROOT = Path(__file__).resolve().parent.parent
DOCTORED = "CONVERT_MAP = 'tests.converters:FX_WRONG'"


def _script(path: str) -> tuple[int, str]:
    done = subprocess.run([sys.executable, path], capture_output=True, text=True, cwd=ROOT, timeout=600,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})  # the convert map lives in tests/
    return done.returncode, done.stdout + done.stderr[-3000:]


@pytest.mark.parametrize("frontend", ["fx", "dynamo"])
def test_a_road_failure_repro_follows_the_road_and_its_convert_map(tmp_path, frontend):
    record = run([sin_case()], tmp_path, "tests.converters:FX_WRONG", frontend=frontend)["aten.sin.default[float32-0]"]
    assert (record["status"], record["call"], record["frontend"]) == ("mismatch", "torch.sin", frontend), record
    assert record.get("repro_error") is None and "only the full repro" in record["short_repro_error"]
    text = Path(record["repro"]).read_text()
    assert f"on llvm through {frontend}: mismatch" in text and DOCTORED in text
    code, output = _script(record["repro"])
    assert (code, output.strip().splitlines()[-1]) == (1, "status: mismatch"), output
    assert "output 0" in output and "values" in output, output  # the differing facet, as the record has it
    # The same script with TVM's own FX converter: the mismatch was the converter's.
    plain = tmp_path / "undoctored.py"
    plain.write_text(text.replace(DOCTORED, "CONVERT_MAP = None"))
    code, output = _script(str(plain))
    assert (code, output.strip().splitlines()[-1]) == (0, "status: pass"), output
    if frontend == "dynamo":
        assert "1 call(s) of TVM's compiled code, 0 graph break(s)" in output


@pytest.mark.parametrize("frontend", ["fx", "dynamo"])
def test_a_road_failure_has_a_short_form_that_follows_the_road(tmp_path, frontend):
    """Without a convert map the short form too is written, through the same road: elu with a
    scale keeps the aten call, which TVM's FX table lacks; through dynamo a graph break after a
    correct sin is import_error in the full script, never a pass."""
    x = torch.linspace(-2, 2, 12).reshape(3, 4)
    cases = [op_case("aten.elu.default", [x, 1.0, 2.0], variant="scaled")]
    if frontend == "dynamo":
        cases.append(Case("break.forced[float32-0]", "op", "aten.sin.default",
                          Program(factories.graph_break_program), "float32"))
    records = run(cases, tmp_path, frontend=frontend)
    elu = records["aten.elu.default[float32-scaled]"]
    assert (elu["status"], elu["stage"], elu["call"]) == ("import_unsupported", "import", "aten"), elu
    assert elu["short_repro"], elu.get("short_repro_error")
    text = Path(elu["short_repro"]).read_text()
    assert ("torch.fx.symbolic_trace(model)" if frontend == "fx" else "backend=tvm_backend") in text, text
    assert "torch.export" not in text, text
    code, output = _script(elu["short_repro"])
    assert (code, output.strip().splitlines()[-1]) == (1, "status: import_unsupported"), output
    if frontend == "dynamo":
        # TVM computed both graphs of the broken program, yet the script does not call it a pass;
        # a short form of recorded calls would lose the break, so there is none.
        broken = records["break.forced[float32-0]"]
        assert (broken["status"], broken["stage"], broken["dynamo"]["tvm_calls"]) == ("import_error", "dynamo", 2)
        assert broken["short_repro"] is None and "leave out what broke it" in broken["short_repro_error"]
        code, output = _script(broken["repro"])
        assert (code, output.strip().splitlines()[-1]) == (1, "status: import_error"), output
        assert "GraphBreak: " in output and "2 call(s) of TVM's compiled code, 1 graph break(s)" in output, output

"""`harness bringup OP`: schema, converter location, failures by signature, skeleton, --watch loop.

The loop is driven for real: a converter file that removes the importer's sin converter gives
import_unsupported; the file is then replaced by the skeleton the harness writes for sin (which
builds relax.op.sin) and the watch re-runs the case, which now passes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness import converters, skeleton

ROOT = Path(__file__).resolve().parent.parent
ONE_SIN = "aten.sin.default[float32-0]"


def _module(source: str) -> dict:
    namespace: dict = {}
    exec(compile(source, "<skeleton>", "exec"), namespace)  # noqa: S102 - the generated module itself
    return namespace


def test_skeleton_of_a_missing_op_reads_its_schema_and_says_what_to_do():
    assert converters.converter_of("aten.amax.default") is None, "TVM gained amax: pick another op"
    source = skeleton.render("aten.amax.default", "converters/amax_default.py")
    module = _module(source)
    assert list(module["MAP"]) == ["amax.default"]
    node = SimpleNamespace(args=("x", [1]), kwargs={"keepdim": True})
    with pytest.raises(NotImplementedError, match=r"self_, dim, keepdim; relax.op has max"):
        module["MAP"]["amax.default"](node, SimpleNamespace(env={"x": "relax x"}))
    assert "aten::amax(Tensor self, int[1] dim=[], bool keepdim=False) -> Tensor" in source
    assert "--convert-map amax_default:MAP" in source


def test_skeleton_builds_the_obvious_relax_op():
    source = skeleton.render("aten.sin.default")
    assert "return importer.block_builder.emit(relax.op.sin(self_))" in source
    with pytest.raises(ValueError, match="not a torch overload"):
        skeleton.render("aten.no_such_op.default")


def test_converter_location_names_file_line_and_wrapped_relax_op():
    found = converters.converter_of("aten.sin.default")
    assert found.key == "sin.default" and found.file.endswith(".py") and found.line > 0
    with open(found.file) as f:
        assert "def convert" in f.readlines()[found.line - 1]  # the line is the function's own
    assert any(name.endswith(".sin") for name in found.captured)


def _bringup(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "harness", "bringup", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, cwd=kwargs.get("cwd", ROOT), bufsize=1,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})


@pytest.mark.slow
def test_watch_reruns_the_cases_when_the_converter_file_changes(tmp_path):
    converter = tmp_path / "my_sin.py"
    converter.write_text('MAP = {"sin.default": None}  # no converter: import_unsupported\n')
    proc = _bringup(ONE_SIN, "--watch", str(converter), "--max-iterations", "2", "--interval", "0.2",
                    "--out", str(tmp_path / "out"))
    lines = []
    deadline = time.monotonic() + 600
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("watching"):
            converter.write_text(skeleton.render("aten.sin.default", str(converter)))
        assert time.monotonic() < deadline, "".join(lines)
    status = proc.wait(timeout=60)
    output = "".join(lines)
    assert status == 0, output
    assert "schema:    aten::sin(Tensor self) -> Tensor" in output
    assert "converter: BaseFXGraphImporter._unary_op.<locals>.convert at " in output
    assert "yours:     removed by my_sin:MAP" in output
    first, second = output.split("changed: run 2")
    assert "verdicts: import_unsupported=1" in first and "Unsupported function types" in first
    assert "repro: " in first
    assert "yours:     sin_default at " in second and "verdicts: pass=1" in second


@pytest.mark.slow
def test_missing_converter_gets_a_skeleton_file(tmp_path):
    target = tmp_path / "amax_default.py"
    proc = _bringup("aten.amax.default[float32-dim-0]", "--skeleton", str(target), "--out", str(tmp_path / "out"))
    output = proc.communicate(timeout=600)[0]
    assert proc.returncode == 1, output  # the case still fails: the skeleton only raises
    assert "converter: none: the convert map has no key 'amax.default'" in output
    assert f"skeleton:  wrote {target}" in output and target.is_file()
    assert "1 x import: AssertionError: Unsupported function types ['amax.default']" in output
    assert list(_module(target.read_text())["MAP"]) == ["amax.default"]


def test_bad_input_is_one_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "harness", "bringup", ONE_SIN, "--watch", str(tmp_path / "none.py")],
                          capture_output=True, text=True, cwd=ROOT, timeout=300, check=False)
    assert done.returncode == 2 and "no such file" in done.stderr and len(done.stderr.splitlines()) == 1

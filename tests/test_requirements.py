"""`harness doctor`'s requirement lines: what is missing or out of range, with the pip command that
adds it; where TVM was imported from; a pinned library in another version is not missing."""

import json
import os
import subprocess
import sys
from pathlib import Path

from harness import doctor, env, requirements

ROOT = Path(__file__).resolve().parent.parent


def _by_name(checks):
    return {c.name: c for c in checks}


def test_each_requirement_is_present_missing_out_of_range_or_another_pinned_version():
    checks = _by_name(requirements.check([
        "packaging>=1", "no-such-package-for-the-harness>=1", "pytest>=999", "torch==1.0.0",
        "apache-tvm==0.1.0"]))
    assert checks["packaging"].state == "ok" and checks["packaging"].found
    assert checks["no-such-package-for-the-harness"].state == "missing"
    assert checks["no-such-package-for-the-harness"].found is None
    assert checks["pytest"].state == "outside"
    assert checks["torch"].state == "unpinned"  # runs, as another experiment
    tvm = checks["apache-tvm"]
    assert tvm.state == "unpinned" and tvm.where == env.tvm_path() and tvm.found == env.tvm_version()


def test_the_pip_command_adds_what_is_missing_and_never_replaces_tvm_or_torch():
    checks = requirements.check(["no-such-package-for-the-harness>=1", "pytest>=999", "torch==1.0.0",
                                 "apache-tvm==0.1.0", "packaging>=1"])
    assert requirements.pip_command(checks) == "pip install 'no-such-package-for-the-harness>=1' 'pytest>=999'"
    assert requirements.pip_command(requirements.check(["packaging>=1"])) is None


def test_the_lines_say_where_tvm_came_from_and_what_is_missing():
    checks = requirements.check(["apache-tvm==0.1.0", "no-such-package-for-the-harness>=1", "torch==1.0.0"])
    text = "\n".join(requirements.lines(checks))
    assert f"imported from {env.tvm_path()}; not the pinned 0.1.0: a different experiment" in text
    assert "missing or out of range: no-such-package-for-the-harness>=1" in text
    assert "torch" in text and "not the pinned 1.0.0" in text


def test_this_environment_meets_the_pinned_set():
    checks = requirements.check()
    assert {c.name for c in checks} >= {"apache-tvm", "torch", "torchvision", "hypothesis", "packaging"}
    assert all(c.state == "ok" for c in checks), [vars(c) for c in checks if c.state != "ok"]


def test_a_missing_requirement_makes_the_doctor_broken_with_the_fix_first():
    facts = {"requirements": [vars(c) for c in requirements.check(["no-such-package-for-the-harness>=1"])]}
    status, fixes = doctor.with_requirements(facts, doctor.COMPILE_ONLY, ["unset X"])
    assert status == doctor.BROKEN and fixes == ["pip install 'no-such-package-for-the-harness>=1'", "unset X"]
    facts = {"requirements": [vars(c) for c in requirements.check(["packaging>=1"])]}
    assert doctor.with_requirements(facts, doctor.COMPILE_ONLY, []) == (doctor.COMPILE_ONLY, [])


def test_the_doctor_names_a_tvm_that_does_not_import_and_stops(tmp_path):
    package = tmp_path / "tvm"
    package.mkdir()
    (package / "__init__.py").write_text("raise ImportError('libtvm.so: cannot open shared object file')\n")
    done = subprocess.run([sys.executable, "-m", "harness", "doctor", "--json"], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"}, cwd=ROOT, timeout=300)
    report = json.loads(done.stdout)
    assert done.returncode == doctor.BROKEN == report["status"]
    assert report["verdict"].startswith("no TVM")
    (tvm,) = [c for c in report["facts"]["requirements"] if c["name"] == "apache-tvm"]
    assert tvm["state"] == "missing" and tvm["where"] == str(package.resolve()) and "libtvm.so" in tvm["error"]

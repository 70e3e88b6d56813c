"""`harness doctor`: the facts it prints are this machine's, and its exit status says what a CUDA
run will do: 0 runs on the GPU, 3 compiles only, 1 cannot compile at all (a broken setup)."""

import json
import os
import subprocess
import sys
from pathlib import Path

from harness import doctor

ROOT = Path(__file__).resolve().parent.parent


def _doctor(*args, **env):
    environ = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    return subprocess.run([sys.executable, "-m", "harness", "doctor", *args], capture_output=True, text=True,
                          env=environ, cwd=ROOT, timeout=300)


def test_doctor_reports_this_machine_and_its_verdict():
    done = _doctor("--json")
    report = json.loads(done.stdout)
    facts = report["facts"]
    assert done.returncode == report["status"]
    assert facts["tvm"]["version"] == "0.27.0.post1"
    if facts["device"]["present"]:
        assert report["status"] == doctor.RUNS and facts["device"]["arch"].startswith("sm_")
    elif facts["probe"]["ok"]:
        assert report["status"] == doctor.COMPILE_ONLY
        assert report["verdict"].startswith("CUDA: compile only") and "skip (no-gpu)" in report["verdict"]
        assert facts["archs"] and all(a.startswith("sm_") for a in facts["archs"])
    else:
        assert report["status"] == doctor.BROKEN and report["fixes"]
    if not facts["runtime"]["loaded"]:
        assert facts["runtime"]["why"]  # never "not loaded" without the reason


def test_doctor_text_has_a_line_per_fact_and_the_verdict_last_but_fixes():
    done = _doctor()
    lines = done.stdout.splitlines()
    keys = [line.split("  ")[0] for line in lines]
    for key in ("TVM", "CUDA runtime", "driver", "device", "compile mode", "NVRTC", "CUDA headers", "nvcc",
                "archs compiled", "probe kernel", "verdict"):
        assert key in keys, done.stdout
    assert all(k == "to do" for k in keys[keys.index("verdict") + 1:])
    assert done.returncode in (doctor.RUNS, doctor.COMPILE_ONLY, doctor.BROKEN)


def test_headers_that_are_not_there_make_a_broken_verdict_naming_the_fix(tmp_path):
    done = _doctor("--json", CUDA_PATH=str(tmp_path), TVM_CUDA_COMPILE_MODE="nvrtc")
    report = json.loads(done.stdout)
    assert done.returncode == doctor.BROKEN
    assert report["verdict"].startswith("CUDA: nothing works here") and "every case would fail" in report["verdict"]
    assert not report["facts"]["probe"]["ok"]
    assert any(f"CUDA_PATH={tmp_path} has no CUDA headers" in fix for fix in report["fixes"]), report["fixes"]


def test_an_unknown_compile_mode_is_broken():
    done = _doctor(TVM_CUDA_COMPILE_MODE="clang")
    assert done.returncode == doctor.BROKEN
    assert "set TVM_CUDA_COMPILE_MODE to nvrtc" in done.stdout


def _facts(**changes) -> dict:
    facts = {"tvm": {"version": "0.27.0.post1", "path": "/x"}, "runtime": {"loaded": True},
             "driver": {"loaded": True, "cuda_version": "13.0"},
             "device": {"present": True, "name": "NVIDIA H100", "count": 1, "arch": "sm_90"},
             "forced_fallback": False, "mode": "nvrtc", "nvrtc": {"version": "13.0", "cuda_bindings": "13.5.0"},
             "headers": {"cuda_path_variable": None, "tvm_lookup": "/usr/local/cuda", "tvm_lookup_error": None,
                         "tvm_lookup_has_headers": True, "version": "13.0"},
             "nvcc": {"path": None}, "probe": {"ok": True}, "archs": []}
    facts.update(changes)
    return facts


def test_verdicts_on_other_machines():
    status, line, fixes = doctor.verdict(_facts())
    assert status == doctor.RUNS and "for sm_90 (NVIDIA H100)" in line and fixes == []
    status, line, fixes = doctor.verdict(_facts(driver={"loaded": True, "cuda_version": "12.4"}))
    assert status == doctor.RUNS and "driver supports CUDA 12.4" in fixes[0]
    status, line, _ = doctor.verdict(_facts(forced_fallback=True, archs=["sm_80"]))
    assert status == doctor.COMPILE_ONLY and "TVM_COMPILE_FORCE_FALLBACK" in line
    status, line, fixes = doctor.verdict(_facts(probe={"ok": False, "error": "no nvrtc"},
                                                nvrtc={"cuda_bindings": None, "error": "ImportError: cuda"}))
    assert status == doctor.BROKEN and any("pip install cuda-bindings" in f for f in fixes)
    lines = doctor.lines(_facts())
    assert "device            NVIDIA H100 (sm_90), 1 visible" in lines

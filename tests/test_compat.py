"""`python -m harness.compat VERSION`: bad input is one line and exit 2; a release environment must
give that TVM from itself and torch from the project's; a finished run is reused only under the
same fingerprint and arguments."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness import compat

ROOT = Path(__file__).resolve().parent.parent
ARGS = ["--ops", "--models", "--jobs", "2"]
FINGERPRINT = {"tvm_version": "0.26.0", "tvm_path": "/v/tvm", "tvm_git_commit": None,
               "tvm_build": {"USE_LLVM": "ON"}, "torch_version": "2.14.1", "torchvision_version": "0.29.1",
               "python": "3.11.7", "target": "llvm", "profile": "quick", "seed": 0, "host": "a"}


def _finished(directory: Path, fingerprint: dict, args: list[str]) -> Path:
    directory.mkdir()
    (directory / "results.jsonl").write_text("")
    (directory / "environment.json").write_text(json.dumps(fingerprint))
    (directory / compat.STAMP).write_text(json.dumps({"run_args": args, "exit_status": 1}))
    return directory


def test_a_finished_run_is_reused_only_under_the_same_fingerprint_and_arguments(tmp_path):
    run = _finished(tmp_path / "run", FINGERPRINT, ARGS)
    assert compat.same_run(run, {**FINGERPRINT, "host": "another machine"}, ARGS)  # not part of the verdicts
    assert not compat.same_run(run, {**FINGERPRINT, "tvm_version": "0.26.1"}, ARGS)
    assert not compat.same_run(run, {**FINGERPRINT, "tvm_build": {"USE_LLVM": "OFF"}}, ARGS)
    assert not compat.same_run(run, {**FINGERPRINT, "torch_version": "2.15.0"}, ARGS)
    assert not compat.same_run(run, FINGERPRINT, ARGS + ["--batch", "1"])
    (run / compat.STAMP).unlink()  # a run that never finished leaves no stamp
    assert not compat.same_run(run, FINGERPRINT, ARGS)


def test_a_release_environment_must_give_that_tvm_from_itself_and_torch_from_the_base(tmp_path):
    venv = tmp_path / "tvm-0.26.0"
    good = {"tvm": "0.26.0", "tvm_path": str(venv / "lib/python3.11/site-packages/tvm"),
            "torch": "2.14.1", "torch_path": "/base/site-packages/torch"}
    compat.check_release_env(good, "0.26.0", venv)
    with pytest.raises(compat.CompatError, match="import tvm gives 0.27.0.post1, not 0.26.0"):
        compat.check_release_env({**good, "tvm": "0.27.0.post1"}, "0.26.0", venv)
    with pytest.raises(compat.CompatError, match="outside the release's environment"):
        compat.check_release_env({**good, "tvm_path": "/base/site-packages/tvm"}, "0.26.0", venv)
    with pytest.raises(compat.CompatError, match="torch was installed into the release's environment"):
        compat.check_release_env({**good, "torch_path": str(venv / "lib/torch")}, "0.26.0", venv)


@pytest.mark.parametrize(("argv", "message"), [
    (["zero.twenty-six"], "is not a TVM release version"),
    (["0.26.0", "--jobs", "0"], "--jobs must be at least 1"),
    (["0.26.0", "--base-python", "/nowhere/python"], "no such python"),
])
def test_bad_input_is_one_line_and_exit_2(argv, message, tmp_path):
    done = subprocess.run([sys.executable, "-m", "harness.compat", *argv, "--results", str(tmp_path)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 2 and message in done.stderr and done.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_the_pinned_release_itself_is_refused(tmp_path):
    import tvm

    assert compat.main([tvm.__version__, "--results", str(tmp_path), "--envs", str(tmp_path / "envs")]) == 2
    assert list(tmp_path.iterdir()) == []

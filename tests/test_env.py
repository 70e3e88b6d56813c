"""The environment fingerprint names the TVM that was imported: version, path, commit, build options.

A stand-in `tvm` package on PYTHONPATH plays a source build: its libinfo() is what a CMake
build reports, and the wheel installed in the environment must not be what the fingerprint says.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

from harness import env

ROOT = Path(__file__).resolve().parent.parent

SOURCE_BUILD = '''
__version__ = "0.99.dev123"
from . import support
'''
LIBINFO = '''
def libinfo():
    return {"GIT_COMMIT_HASH": "feedface0123456789", "GIT_COMMIT_TIME": "2026-02-03 04:05:06 +0000",
            "USE_LLVM": "/usr/lib/llvm-17/bin/llvm-config", "LLVM_VERSION": "17.0.6", "USE_CUDA": "OFF",
            "USE_OPENCL": "OFF", "USE_CUBLAS": "ON", "INSTALL_DEV": "OFF", "TVM_CXX_COMPILER_PATH": "/usr/bin/c++"}
'''


def _fingerprint_with(pythonpath: str) -> dict:
    code = "import json; from harness import env; print(json.dumps(env.fingerprint('llvm', 7, 'quick')))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": pythonpath}, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_source_build_on_pythonpath_is_the_tvm_the_fingerprint_names(tmp_path):
    package = tmp_path / "tvm"
    package.mkdir()
    (package / "__init__.py").write_text(SOURCE_BUILD)
    (package / "support.py").write_text(LIBINFO)
    found = _fingerprint_with(f"{tmp_path}{os.pathsep}{ROOT}")
    assert found["tvm_version"] == "0.99.dev123"  # not the pinned wheel installed beside it
    assert found["tvm_path"] == str(package.resolve())
    assert found["tvm_git_commit"] == "feedface0123456789"
    assert found["tvm_git_commit_time"] == "2026-02-03 04:05:06 +0000"
    # the informative keys only: LLVM and CUDA always, another option when it is on
    assert found["tvm_build"] == {"USE_LLVM": "/usr/lib/llvm-17/bin/llvm-config", "LLVM_VERSION": "17.0.6",
                                  "USE_CUDA": "OFF", "USE_CUBLAS": "ON"}
    assert found["seed"] == 7 and found["torch_version"]


def test_a_tvm_that_fails_to_import_is_recorded_not_raised(tmp_path):
    package = tmp_path / "tvm"
    package.mkdir()
    (package / "__init__.py").write_text("raise ImportError('libtvm.so: cannot open shared object file')\n")
    found = _fingerprint_with(f"{tmp_path}{os.pathsep}{ROOT}")
    assert found["tvm_path"] == str(package.resolve()) and found["tvm_version"] is None
    assert "libtvm.so" in found["tvm_import_error"]


def test_the_installed_wheel_is_versioned_without_importing_tvm():
    code = ("import sys, json; from harness import env; v = env.library_versions()['tvm_version']; "
            "print(json.dumps([v, 'tvm' in sys.modules]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT)
    version, imported = json.loads(done.stdout)
    import tvm

    assert version == tvm.__version__ and not imported


def test_build_info_is_computed_once_per_process():
    first = env.tvm_build_info()
    assert env.tvm_build_info() is first
    assert first["path"] == env.tvm_path() and first["version"] == env.tvm_version()

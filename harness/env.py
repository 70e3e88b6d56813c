"""The environment fingerprint written with every run.

TVM is described as it is imported, not as pip lists it: a source build on PYTHONPATH, a
nightly wheel or another release can stand in for the pinned wheel, so the version, the
directory it was imported from and its build options (`tvm.support.libinfo()`) are what a
reader needs to know which TVM gave the verdicts.
"""

from __future__ import annotations

import functools
import importlib.util
import platform
import socket
import sys
from importlib import metadata
from pathlib import Path

from harness.targets import available_cores

# libinfo() has dozens of keys in a source build (paths, every USE_ flag); these say which TVM
# it is and what it can compile for. A wheel records only some of them.
TVM_BUILD_KEYS = ("GIT_COMMIT_HASH", "GIT_COMMIT_TIME", "USE_LLVM", "LLVM_VERSION", "USE_CUDA",
                  "CUDA_VERSION", "USE_CUDNN", "USE_CUBLAS", "USE_CUTLASS", "USE_ROCM", "USE_VULKAN",
                  "USE_METAL", "USE_OPENCL", "CMAKE_BUILD_TYPE")


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def tvm_path() -> str | None:
    """The directory `import tvm` loads (found without importing it), or None when there is none."""
    if "tvm" in sys.modules and getattr(sys.modules["tvm"], "__file__", None):
        return str(Path(sys.modules["tvm"].__file__).resolve().parent)
    try:
        spec = importlib.util.find_spec("tvm")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin:
        return None
    return str(Path(spec.origin).resolve().parent)


def _installed_beside(package_dir: Path) -> str | None:
    """The version of the distribution installed in package_dir's parent that owns package_dir
    (apache-tvm, a nightly wheel under another name), or None for a source tree."""
    for dist in metadata.distributions(path=[str(package_dir.parent)]):
        name = (dist.metadata["Name"] or "").lower()
        if "tvm" not in name or "ffi" in name:
            continue
        if any(str(f).replace("\\", "/") == f"{package_dir.name}/__init__.py" for f in dist.files or ()):
            return dist.version
    return None


def tvm_version() -> str | None:
    """The version of the TVM `import tvm` gives: read from its wheel's metadata when it was
    installed by pip (no import needed), else from the imported package itself."""
    if "tvm" in sys.modules:
        return getattr(sys.modules["tvm"], "__version__", None)
    path = tvm_path()
    if path is None:
        return None
    found = _installed_beside(Path(path))
    return found if found is not None else tvm_build_info()["version"]


def _informative(key: str, value: str) -> bool:
    """LLVM and CUDA are always stated (OFF included: it explains a whole column); another
    option only when it is on or has a value."""
    if key in ("USE_LLVM", "USE_CUDA"):
        return bool(value.strip())
    return value.strip() not in ("", "OFF", "NOT-FOUND")


@functools.cache
def tvm_build_info() -> dict:
    """Version, import path and the informative libinfo() keys of the TVM this process imports.

    Importing TVM costs seconds, so this is computed once per process.
    """
    try:
        import tvm
    except Exception as err:  # noqa: BLE001 - a broken TVM is a fact to record, not a crash here
        return {"version": None, "path": tvm_path(), "build": {}, "error": f"{type(err).__name__}: {err}"}
    try:
        info = dict(tvm.support.libinfo())
    except Exception:  # noqa: BLE001 - an old or stripped build: no build info
        info = {}
    build = {key: str(info[key]) for key in TVM_BUILD_KEYS if _informative(key, str(info.get(key, "")))}
    return {"version": getattr(tvm, "__version__", None), "path": str(Path(tvm.__file__).resolve().parent),
            "build": build}


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gpu_name() -> str | None:
    try:
        import torch

        if torch.cuda.is_available():
            return torch.cuda.get_device_name(0)
    except Exception:  # noqa: BLE001 - a broken driver means no usable GPU
        return None
    return None


def library_versions() -> dict[str, str | None]:
    return {
        "torch_version": _version("torch"),
        "torchvision_version": _version("torchvision"),
        "tvm_version": tvm_version(),
    }


def tvm_fields() -> dict:
    """The fingerprint's TVM fields: where it was imported from, its git commit and build options."""
    info = tvm_build_info()
    build = dict(info["build"])
    fields = {"tvm_path": info["path"], "tvm_git_commit": build.pop("GIT_COMMIT_HASH", None),
              "tvm_git_commit_time": build.pop("GIT_COMMIT_TIME", None), "tvm_build": build}
    if info.get("error"):
        fields["tvm_import_error"] = info["error"]
    return fields


def fingerprint(target: str, seed: int, profile: str, tvm: dict | None = None) -> dict:
    """The run's environment; `tvm`: tvm_fields() as a worker process computed them."""
    return {
        **library_versions(),
        **(tvm if tvm is not None else tvm_fields()),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "host": socket.gethostname(),
        "cpu": cpu_model(),
        "cores": available_cores(),
        "gpu": gpu_name(),
        "target": target,
        "seed": seed,
        "profile": profile,
    }

"""`harness doctor`: what this environment lacks, and what a CUDA run will and will not do here.

Its first lines are the TVM `import tvm` gives (version, the directory it comes from, and whether
it is the pinned one) and the project's requirements that are missing or out of range, with the
pip command that adds them (harness.requirements): what to check after installing the harness
beside your own TVM with `pip install --no-deps -e .`.

It reports TVM's CUDA runtime (loaded or not, and why), the NVIDIA driver and the device with
its arch, the device compiler TVM will use (TVM_CUDA_COMPILE_MODE: NVRTC through cuda-bindings,
or nvcc) with its headers and library, nvcc's version, and the proof: a trivial kernel compiled
through TVM's own callback. The last line is the verdict and what to install or set.

Exit status: 0 a CUDA run compiles and runs kernels here; 3 it compiles them (TVM's code
generation and the device compiler, for several archs) but cannot run them (no usable GPU);
1 it cannot compile CUDA kernels at all, so every case would fail for a reason of the setup, or
a requirement is missing (no run would start).
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import shutil
import subprocess
from importlib import metadata
from pathlib import Path

from harness import device_compile as dc
from harness import env
from harness import requirements as reqs
from harness.signature import one_line_error

RUNS, BROKEN, COMPILE_ONLY = 0, 1, 3


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _load_error(err: OSError) -> str:
    """`libcuda.so.1 not found` rather than the loader's sentence (which names the library first)."""
    found = re.search(r"([\w.+-]+\.so[\w.]*): cannot open shared object file", str(err))
    return f"{found.group(1)}, not found" if found else str(err)


def driver() -> dict:
    """libcuda (the driver's library): loadable, and the CUDA version it supports."""
    try:
        lib = ctypes.CDLL("libcuda.so.1")
    except OSError as err:
        return {"loaded": False, "why": _load_error(err)}
    version = ctypes.c_int(0)
    if lib.cuDriverGetVersion(ctypes.byref(version)) != 0:
        return {"loaded": True, "cuda_version": None, "why": "cuDriverGetVersion failed"}
    return {"loaded": True, "cuda_version": f"{version.value // 1000}.{version.value % 1000 // 10}"}


def runtime() -> dict:
    """TVM's CUDA runtime: the wheel loads libtvm_runtime_cuda.so quietly, or quietly not."""
    import tvm
    from tvm.base import _LOADED_LIBS

    if dc.runtime_compiles() or "tvm_runtime_cuda" in _LOADED_LIBS:
        return {"loaded": True}
    library = Path(tvm.__file__).parent / "lib" / "libtvm_runtime_cuda.so"
    if not library.exists():
        return {"loaded": False, "why": f"this TVM build has no CUDA runtime ({library.name} absent)"}
    try:
        ctypes.CDLL(str(library), mode=ctypes.RTLD_LOCAL)
    except OSError as err:
        return {"loaded": False, "why": f"{library.name} needs {_load_error(err)}"}
    return {"loaded": False, "why": "the library loads now but TVM did not register it at import"}


def device(loaded: bool) -> dict:
    if not loaded:
        return {"present": False}
    import tvm

    dev = tvm.cuda(0)
    if not dev.exist:
        return {"present": False, "visible": os.environ.get("CUDA_VISIBLE_DEVICES")}
    count = sum(1 for i in range(16) if tvm.cuda(i).exist)
    return {"present": True, "name": dev.device_name, "count": count,
            "arch": "sm_" + dev.compute_version.replace(".", "")}


def nvcc_version() -> dict:
    path = shutil.which("nvcc")
    if path is None:
        return {"path": None}
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=False).stdout
    found = re.search(r"release [\d.]+, V([\d.]+)", out)
    return {"path": path, "version": found.group(1) if found else None}


def headers() -> dict:
    """Where TVM's NVRTC path looks for the CUDA headers, and whether they are there."""
    tvm_path, why = dc.tvm_cuda_path()
    facts = {"cuda_path_variable": os.environ.get("CUDA_PATH"), "tvm_lookup": tvm_path,
             "tvm_lookup_error": why, "tvm_lookup_has_headers": dc.has_headers(tvm_path)}
    if not facts["tvm_lookup_has_headers"]:
        facts["usable_elsewhere"] = next((r for r in dc.usual_cuda_roots() if dc.has_headers(r)), None)
    root = tvm_path if facts["tvm_lookup_has_headers"] else facts.get("usable_elsewhere")
    facts["version"] = _header_version(root) if root else None
    return facts


def _header_version(root: str) -> str | None:
    for directory in dc.include_dirs(root):
        path = os.path.join(directory, "cuda_runtime_api.h")
        if os.path.isfile(path):
            found = re.search(r"#define\s+CUDART_VERSION\s+(\d+)", Path(path).read_text(errors="replace"))
            if found:
                value = int(found.group(1))
                return f"{value // 1000}.{value % 1000 // 10}"
    return None


def nvrtc() -> dict:
    facts = {"cuda_bindings": _version("cuda-bindings")}
    try:
        from cuda.bindings import nvrtc as lib

        _, major, minor = lib.nvrtcVersion()
        facts["version"] = f"{major}.{minor}"
    except Exception as exc:  # noqa: BLE001 - missing package or library: the reason is the fact
        facts["error"] = one_line_error(exc)
        return facts
    try:
        import cuda.pathfinder

        facts["library"] = cuda.pathfinder.load_nvidia_dynamic_lib("nvrtc").abs_path
    except Exception:  # noqa: BLE001 - only informative
        facts["library"] = None
    return facts


def probe(facts: dict) -> dict:
    """A trivial kernel through TVM's callback, as a run's workers do before their first case."""
    try:
        compiler = dc.DeviceCompiler()
    except dc.CompilerUnusable as exc:
        return {"ok": False, "error": str(exc)}
    except Exception as exc:  # noqa: BLE001 - e.g. cuda-bindings missing while listing archs
        return {"ok": False, "error": one_line_error(exc)}
    facts["archs"] = list(compiler.archs)
    facts["cuda_path_set_by_harness"] = compiler.cuda_path
    try:
        compiler.check(hint="")
    except dc.CompilerUnusable as exc:
        return {"ok": False, "error": str(exc)}
    return {"ok": True}


def gather() -> dict:
    import tvm

    facts: dict = {"tvm": {"version": env.tvm_version(), "path": str(Path(tvm.__file__).parent)},
                   "requirements": [vars(c) for c in reqs.check()]}
    facts["runtime"] = runtime()
    facts["driver"] = driver()
    facts["device"] = device(facts["runtime"]["loaded"])
    facts["forced_fallback"] = dc.forced_fallback()
    facts["mode"] = dc.compile_mode()
    facts["nvrtc"] = nvrtc()
    facts["headers"] = headers()
    facts["nvcc"] = nvcc_version()
    facts["probe"] = probe(facts)
    return facts


def verdict(facts: dict) -> tuple[int, str, list[str]]:
    """(exit status, one-line verdict, what to install or set)."""
    fixes = []
    mode, probe_ok = facts["mode"], facts["probe"]["ok"]
    dev, drv = facts["device"], facts["driver"]
    set_by_harness = facts.get("cuda_path_set_by_harness")
    if set_by_harness:
        fixes.append(f"TVM's own lookup finds no CUDA headers ({facts['headers']['tvm_lookup']}); runs set "
                     f"CUDA_PATH={set_by_harness} for their workers: export it for your own TVM scripts")
    if not probe_ok:
        fixes.extend(_compiler_fixes(facts))
        return BROKEN, (f"CUDA: nothing works here — {facts['probe']['error']}; "
                        "every case would fail at compile"), fixes
    compiler = f"{mode.upper() if mode == 'nvrtc' else 'nvcc'} {_compiler_version(facts)}".strip()
    if dev.get("present") and not facts["forced_fallback"]:
        fixes.extend(_driver_fixes(facts))
        return RUNS, (f"CUDA: full runs — TVM compiles every kernel with {compiler} for {dev['arch']} "
                      f"({dev['name']}) and the cases run and are compared on the device"), fixes
    archs = ", ".join(facts.get("archs") or [])
    if facts["forced_fallback"]:
        why = "TVM_COMPILE_FORCE_FALLBACK is set"
        fixes.append("unset TVM_COMPILE_FORCE_FALLBACK to run kernels")
    elif not drv["loaded"]:
        why = f"no NVIDIA driver: {drv['why']}"
        fixes.append("to run kernels: a machine with an NVIDIA GPU and its driver (libcuda.so.1); "
                     "nothing to install for compile verdicts")
    elif not facts["runtime"]["loaded"]:
        why = f"TVM's CUDA runtime did not load ({facts['runtime']['why']})"
        fixes.append("to run kernels: make libtvm_runtime_cuda.so's libraries loadable (see the reason above)")
    else:
        why = "the driver sees no CUDA device"
        fixes.append(f"check the GPU is visible (CUDA_VISIBLE_DEVICES={dev.get('visible')!r}, nvidia-smi)")
    return COMPILE_ONLY, (f"CUDA: compile only — TVM generates every kernel and {compiler} compiles it "
                          f"for {archs}; nothing runs ({why}), runs are recorded as skip (no-gpu)"), fixes


def _compiler_version(facts: dict) -> str:
    if facts["mode"] == "nvrtc":
        return facts["nvrtc"].get("version") or ""
    return facts["nvcc"].get("version") or ""


def _compiler_fixes(facts: dict) -> list[str]:
    mode, head = facts["mode"], facts["headers"]
    if mode not in dc.MODES:
        return ["set TVM_CUDA_COMPILE_MODE to nvrtc (the default) or nvcc"]
    if mode == "nvcc":
        return ([] if facts["nvcc"]["path"] else ["install the CUDA toolkit and put its bin/ on PATH"]) + \
            ["or unset TVM_CUDA_COMPILE_MODE to use NVRTC"]
    fixes = []
    if "error" in facts["nvrtc"]:
        fixes.append("pip install cuda-bindings (TVM's NVRTC path needs it; torch's CUDA wheel brings it)")
    if not head["tvm_lookup_has_headers"] and not head.get("usable_elsewhere"):
        fixes.append("install the CUDA toolkit's headers (cuda_runtime.h, libcu++'s cuda/std) and set "
                     "CUDA_PATH to its root")
    elif head["cuda_path_variable"] and not dc.has_headers(head["cuda_path_variable"]):
        fixes.append(f"CUDA_PATH={head['cuda_path_variable']} has no CUDA headers: point it at a toolkit root")
    return fixes or ["or TVM_CUDA_COMPILE_MODE=nvcc with a CUDA toolkit on PATH"]


def _driver_fixes(facts: dict) -> list[str]:
    supported, built = facts["driver"].get("cuda_version"), _compiler_version(facts)
    if supported and built and _major(built) > _major(supported):
        return [f"the driver supports CUDA {supported} but kernels are compiled by CUDA {built}: "
                "they may fail to load; update the driver or use a matching toolkit"]
    return []


def _major(version: str) -> int:
    return int(version.split(".")[0])


def lines(facts: dict) -> list[str]:
    rt, drv, dev, rtc, head, nvcc = (facts[k] for k in ("runtime", "driver", "device", "nvrtc", "headers", "nvcc"))
    # Facts gathered without the requirement check (older JSON, tests of the CUDA part) still name TVM.
    first = (reqs.lines([reqs.Check(**c) for c in facts["requirements"]]) if "requirements" in facts
            else [f"TVM               {facts['tvm']['version']} ({facts['tvm']['path']})"])
    out = [*first,
           "CUDA runtime      " + ("loaded" if rt["loaded"] else f"not loaded: {rt['why']}"),
           "driver            " + (f"CUDA {drv.get('cuda_version')}" if drv["loaded"] else f"none: {drv['why']}"),
           "device            " + (f"{dev['name']} ({dev['arch']}), {dev['count']} visible" if dev.get("present")
                                   else "none"),
           f"compile mode      {facts['mode']} (TVM_CUDA_COMPILE_MODE"
           f"{'=' + os.environ['TVM_CUDA_COMPILE_MODE'] if 'TVM_CUDA_COMPILE_MODE' in os.environ else ' unset'})"
           + (", TVM_COMPILE_FORCE_FALLBACK set" if facts["forced_fallback"] else ""),
           "NVRTC             " + (f"{rtc['version']} via cuda-bindings {rtc['cuda_bindings']} ({rtc.get('library')})"
                                   if "version" in rtc else f"unusable: {rtc['error']}"),
           "CUDA headers      " + _headers_line(head, facts.get("cuda_path_set_by_harness")),
           "nvcc              " + (f"{nvcc['version']} ({nvcc['path']})" if nvcc["path"] else "not on PATH"),
           "archs compiled    " + (", ".join(facts["archs"]) if facts.get("archs")
                                   else (dev.get("arch", "-") + " (the device's, inside tvm.compile)")),
           "probe kernel      " + ("compiled through tvm_callback_cuda_compile" if facts["probe"]["ok"]
                                   else f"failed: {facts['probe']['error']}")]
    return out


def _headers_line(head: dict, set_by_harness: str | None) -> str:
    version = f"CUDA {head['version']}" if head.get("version") else "none found"
    lookup = head["tvm_lookup"] or f"nothing ({head['tvm_lookup_error']})"
    if head["tvm_lookup_has_headers"]:
        return f"{version} under {lookup} (TVM's lookup)"
    if set_by_harness:
        return f"{version} under {set_by_harness}; TVM's lookup gives {lookup}, without headers"
    return f"{version}; TVM's lookup gives {lookup}, without headers"


def with_requirements(facts: dict, status: int, fixes: list[str]) -> tuple[int, list[str]]:
    """A missing requirement comes first among the fixes and makes the setup broken: no run starts."""
    checks = [reqs.Check(**c) for c in facts["requirements"]]
    command = reqs.pip_command(checks)
    if command is None:
        return status, fixes
    return BROKEN, [command, *fixes]


def main(as_json: bool = False) -> int:
    checks = reqs.check()
    if any(c.name == "apache-tvm" and c.state == "missing" for c in checks):
        line, fixes = "no TVM: `import tvm` finds none, so nothing can run", [reqs.pip_command(checks) or ""]
        fixes = [f for f in fixes if f] + ["pip install apache-tvm, or put your TVM build's python/ on PYTHONPATH"]
        if as_json:
            print(json.dumps({"facts": {"requirements": [vars(c) for c in checks]}, "status": BROKEN,
                              "verdict": line, "fixes": fixes}, indent=2))
        else:
            print("\n".join([*reqs.lines(checks), f"verdict           {line}", *(f"to do             {f}" for f in fixes)]))
        return BROKEN
    facts = gather()
    status, line, fixes = verdict(facts)
    status, fixes = with_requirements(facts, status, fixes)
    if as_json:
        print(json.dumps({"facts": facts, "status": status, "verdict": line, "fixes": fixes}, indent=2))
        return status
    print("\n".join(lines(facts)))
    print(f"verdict           {line}")
    for fix in fixes:
        print(f"to do             {fix}")
    return status

"""Device compilation: a CUDA build's kernels compiled for real, as TVM compiles them on a GPU host.

`tvm.compile` for CUDA generates CUDA C++ for every kernel and hands it to a device compiler
through the global callback `tvm_callback_cuda_compile` (tvm/support/nvcc.py: NVRTC by default,
nvcc with TVM_CUDA_COMPILE_MODE=nvcc), with the arch of the current target. The wheel does that
only where TVM's CUDA runtime is loaded (a driver is present). Elsewhere it returns a fallback
module holding the source alone, and nothing compiles it: a verdict taken there would cover
lowering and code generation but not the compiler that has the last word. So:

- without the runtime, every kernel source of the build (its whole import tree) is handed to
  that same callback, under a Target scope per architecture of `archs` (the GPUs people use and
  the newest the compiler knows). The source is generated per arch, since TVM's lowering
  depends on it (bfloat16 code differs below sm_80), by a build for that arch; the first arch
  whose kernels are rejected ends the step;
- with the runtime, TVM already compiled for the device's arch inside tvm.compile; the callback
  is wrapped (the same function runs) to time it and keep its log, so a rejected kernel reads
  the same either way and nothing is compiled twice.

A rejected kernel raises `DeviceCompileError`: one line naming the compiler, the arch and the
compiler's first error (`nvrtc sm_80: error: identifier "hfoo" is undefined`), so equal bugs
share a signature across ops and archs. Its details (the offending source line, the kernel it
is in, each arch's verdict and time) go to the record's `device_compile` field.

Where TVM's own lookup of the CUDA toolkit (`find_cuda_path`: CUDA_PATH, else two levels
above `which nvcc`) finds no headers, NVRTC cannot compile anything; when CUDA_PATH is unset and
a toolkit with headers is at a usual place, CUDA_PATH is pointed there for this process (and the
record says so), so a wrapper script named nvcc on PATH does not fail every case.
"""

from __future__ import annotations

import glob
import hashlib
import os
import platform
import re
import shutil
import subprocess
import time

from harness.signature import one_line_error

# Ampere (A100, RTX 30), Ada (L4, L40, RTX 40), Hopper (H100, H200); the newest the compiler
# knows is added (Blackwell with CUDA 12.8+).
COMMON_ARCHS = ("sm_80", "sm_89", "sm_90")
ARCHS_VARIABLE = "HARNESS_CUDA_ARCHS"  # comma-separated list replacing the default
MODES = ("nvrtc", "nvcc")


class DeviceCompileError(Exception):
    """The device compiler rejected a kernel TVM generated."""

    def __init__(self, message: str, details: dict):
        super().__init__(message)
        self.details = details


class ArchBuildError(DeviceCompileError):
    """tvm.compile failed for one of the other archs (its lowering depends on the arch)."""


class CompilerUnusable(Exception):
    """The device compiler cannot compile anything here: a fault of the setup, not of a kernel."""


def compile_mode() -> str:
    """The compiler TVM's callback uses, read as the callback reads it."""
    return os.environ.get("TVM_CUDA_COMPILE_MODE", "nvrtc").lower()


def forced_fallback() -> bool:
    return os.environ.get("TVM_COMPILE_FORCE_FALLBACK", "").strip().lower() in ("1", "true", "yes", "on")


def runtime_compiles() -> bool:
    """Whether tvm.compile compiles CUDA kernels itself: TVM's CUDA runtime registered its module
    factory (it loads only where libcuda does) and the fallback is not forced."""
    import tvm_ffi

    return (not forced_fallback()
            and tvm_ffi.get_global_func("ffi.Module.create.cuda", allow_missing=True) is not None)


def supported_archs(mode: str) -> list[int]:
    """The real architectures the compiler can target, as numbers (80, 90, 120, ...)."""
    if mode == "nvrtc":
        from cuda.bindings import nvrtc

        result, archs = nvrtc.nvrtcGetSupportedArchs()
        if result != nvrtc.nvrtcResult.NVRTC_SUCCESS:
            raise CompilerUnusable(f"nvrtcGetSupportedArchs failed: {result}")
        return sorted(int(a) for a in archs)
    nvcc = shutil.which("nvcc")
    if nvcc is None:
        raise CompilerUnusable("nvcc is not on PATH (TVM_CUDA_COMPILE_MODE=nvcc runs `nvcc`)")
    out = subprocess.run([nvcc, "--list-gpu-code"], capture_output=True, text=True, check=False).stdout
    return sorted({int(m) for m in re.findall(r"\bsm_(\d+)\b", out)})


def default_archs(mode: str) -> tuple[str, ...]:
    """The archs a machine without a GPU compiles for: HARNESS_CUDA_ARCHS, or the common ones
    plus the newest the compiler knows."""
    chosen = os.environ.get(ARCHS_VARIABLE, "").strip()
    if chosen:
        archs = tuple(a.strip() for a in chosen.split(",") if a.strip())
        bad = [a for a in archs if not re.fullmatch(r"sm_\d+[af]?", a)]
        if bad:
            raise CompilerUnusable(f"{ARCHS_VARIABLE}: {', '.join(bad)} is not of the form sm_NN")
        return archs
    known = supported_archs(mode)
    newest = f"sm_{known[-1]}" if known else None
    return COMMON_ARCHS + ((newest,) if newest and newest not in COMMON_ARCHS else ())


def include_dirs(root: str) -> list[str]:
    """The include directories TVM's NVRTC path passes for a toolkit root."""
    machine = platform.machine().lower()
    triples = ["sbsa-linux", f"{machine}-linux"] if machine in ("aarch64", "arm64") else [f"{machine}-linux"]
    dirs = [os.path.join(root, "include")]
    for triple in triples:
        target = os.path.join(root, "targets", triple, "include")
        if os.path.isdir(target):
            dirs += [target, os.path.join(target, "cccl")]
            break
    return [d for d in dirs if os.path.isdir(d)]


def has_headers(root: str | None) -> bool:
    """Whether NVRTC compiles TVM's kernels with this root's headers: cuda_runtime.h (TVM checks it)
    and libcu++'s cuda/std/cstdint (TVM's preamble includes it)."""
    if not root:
        return False
    dirs = include_dirs(root)
    return (any(os.path.isfile(os.path.join(d, "cuda_runtime.h")) for d in dirs)
            and any(os.path.isfile(os.path.join(d, "cuda", "std", "cstdint")) for d in dirs))


def tvm_cuda_path() -> tuple[str | None, str | None]:
    """The toolkit root TVM's own lookup finds, or (None, why not)."""
    try:
        from tvm.support.nvcc import find_cuda_path

        return find_cuda_path(), None
    except Exception as exc:  # noqa: BLE001 - TVM raises RuntimeError when it finds nothing
        return None, one_line_error(exc)


def usual_cuda_roots() -> list[str]:
    roots = [os.environ.get("CUDA_HOME"), "/usr/local/cuda", *sorted(glob.glob("/usr/local/cuda-*"), reverse=True)]
    return [r for r in dict.fromkeys(roots) if r]


def configure_cuda_path() -> str | None:
    """Point CUDA_PATH at a toolkit with headers when it is unset and TVM's lookup finds none;
    returns the path set, or None when nothing was changed."""
    if "CUDA_PATH" in os.environ:
        return None
    found, _ = tvm_cuda_path()
    if has_headers(found):
        return None
    for root in usual_cuda_roots():
        if has_headers(root):
            os.environ["CUDA_PATH"] = root
            return root
    return None


def kernel_sources(module) -> list[str]:
    """The CUDA source of every CUDA module in a built module's import tree."""
    sources, stack, seen = [], [module], set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if current.kind == "cuda":
            text = current.inspect_source("cuda")
            if text:
                sources.append(str(text))
        stack.extend(reversed(list(current.imports)))
    return sources


# ------------------------------------------------------------------ reading the compiler's log

# `tvm_kernels.cu(123): error: ...`, `/usr/.../cuda_fp16.hpp(9): catastrophic error: ...`,
# `ptxas error   : ...`, `nvcc fatal   : ...`
_ERROR = re.compile(r"^(?:(?P<file>[^\s()]+)\((?P<line>\d+)\):\s*)?(?:(?P<tool>ptxas|nvcc|nvlink)\s+)?"
                    r"(?P<kind>catastrophic error|error|fatal)\s*:\s*(?P<text>.+)$", re.I)
_KERNEL = re.compile(r'__global__\s+void\s+(?:__launch_bounds__\([^)]*\)\s*)?(\w+)\s*\(')


def compiler_log(message: str) -> str:
    """The compiler's output in TVM's exception (nvcc's message starts with the whole source)."""
    marker = "\nCompilation error:\n"
    if marker in message:
        return message.split(marker, 1)[1]
    return message.split("NVRTC compilation failed:", 1)[-1]


def first_error(log: str) -> dict:
    """The first error of a compiler log: its text, where it points, the source line it quotes."""
    lines = log.splitlines()
    for index, line in enumerate(lines):
        found = _ERROR.match(line.strip())
        if not found:
            continue
        where = os.path.basename(found["file"]) if found["file"] else found["tool"]
        quoted = next((x.strip() for x in lines[index + 1:index + 2] if x.strip() and "^" not in x), None)
        return {"text": f"{found['kind'].lower()}: {found['text'].strip()}", "file": where,
                "line": int(found["line"]) if found["line"] else None, "source_line": quoted,
                "errors": sum(1 for x in lines if _ERROR.match(x.strip()))}
    first = next((x.strip() for x in lines if x.strip()), "no output")
    return {"text": first, "file": None, "line": None, "source_line": None, "errors": 0}


def enclosing_kernel(source: str, quoted: str | None) -> str | None:
    """The kernel whose body holds the source line the compiler quoted."""
    if not quoted or quoted not in source:
        return None
    names = _KERNEL.findall(source[: source.index(quoted)])
    return names[-1] if names else None


def _describe(mode: str, arch: str, error: dict) -> str:
    where = f"{error['file']}: " if error["file"] and not error["file"].startswith("tvm_kernels") else ""
    return f"{mode} {arch}: {where}{error['text']}"


# ------------------------------------------------------------------ compiling


def _arch_of(target) -> str | None:
    arch = target.attrs.get("arch") if target is not None else None
    return str(arch) if arch else None


class DeviceCompiler:
    """Compiles the kernels of CUDA builds in one process; one per worker."""

    def __init__(self, mode: str | None = None, archs: tuple[str, ...] | None = None):
        self.mode = mode or compile_mode()
        if self.mode not in MODES:
            raise CompilerUnusable(f"TVM_CUDA_COMPILE_MODE={self.mode!r}: TVM accepts 'nvrtc' or 'nvcc'")
        self.cuda_path = configure_cuda_path() if self.mode == "nvrtc" else None
        self.in_tvm = runtime_compiles()
        self.archs = archs if archs is not None else (() if self.in_tvm else default_archs(self.mode))
        self._verdicts: dict[str, str | None] = {}  # sha256(mode, arch, source) -> None or error log
        self._calls: list[dict] = []  # what the wrapped callback saw during one tvm.compile
        if self.in_tvm:
            self._wrap_callback()

    # -- on a GPU host: TVM compiles; the wrapper times it and keeps the log
    def _wrap_callback(self) -> None:
        import tvm
        import tvm_ffi

        original = tvm_ffi.get_global_func("tvm_callback_cuda_compile")
        calls = self._calls

        def recorded(code):
            target = tvm.target.Target.current(allow_none=True)
            arch = _arch_of(target) or "sm_" + tvm.cuda(0).compute_version.replace(".", "")
            start = time.perf_counter()
            try:
                binary = original(code)
            except Exception as exc:
                calls.append({"arch": arch, "seconds": time.perf_counter() - start, "source": str(code),
                              "log": compiler_log(str(exc))})
                raise
            calls.append({"arch": arch, "seconds": time.perf_counter() - start, "log": None})
            return binary

        tvm_ffi.register_global_func("tvm_callback_cuda_compile", recorded, override=True)

    def _compile(self, source: str, arch: str) -> tuple[str | None, float, bool]:
        """(error log or None, seconds, whether the verdict was remembered) for one source."""
        key = hashlib.sha256(f"{self.mode}\0{arch}\0{source}".encode()).hexdigest()
        if key in self._verdicts:
            return self._verdicts[key], 0.0, True
        import tvm
        import tvm_ffi

        callback = tvm_ffi.get_global_func("tvm_callback_cuda_compile")
        start = time.perf_counter()
        with tvm.target.Target({"kind": "cuda", "arch": arch}):
            try:
                callback(source)
                log = None
            except Exception as exc:  # noqa: BLE001 - the compiler's verdict on this kernel
                log = compiler_log(str(exc))
        self._verdicts[key] = log
        return log, time.perf_counter() - start, False

    def check(self, hint: str = " (`harness doctor` says what to install or set)") -> None:
        """Prove the compiler works on a trivial kernel (headers, library, flags), or raise
        CompilerUnusable: otherwise every case would fail for a reason no kernel has."""
        import tvm

        probe = 'extern "C" __global__ void harness_probe(float* x) { x[threadIdx.x] = 1.0f; }\n'
        arch = self.archs[0] if self.archs else "sm_" + tvm.cuda(0).compute_version.replace(".", "")
        log, _, _ = self._compile(probe, arch)
        if log is not None:
            raise CompilerUnusable(f"{self.mode} cannot compile a trivial kernel for {arch}: "
                                   f"{first_error(log)['text']}{hint}")

    def build(self, mod, target):
        """tvm.compile, then the device compile this machine does not get from TVM; returns
        (executable, report for the record's `device_compile`)."""
        import tvm

        self._calls.clear()
        start = time.perf_counter()
        try:
            executable = tvm.compile(mod, target=target)
        except Exception as exc:
            failed = next((c for c in self._calls if c["log"] is not None), None)
            if failed is None:
                raise
            raise self._rejected(self._seen_by_tvm(), failed["arch"], failed["source"], failed["log"]) from exc
        if self.in_tvm:
            report = self._seen_by_tvm()
            report["archs"] = {arch: "compiled" for arch in report["archs"]}
            return executable, report
        main_arch = _arch_of(target)
        report = self._report("harness", self.archs)
        other_builds = 0.0
        for arch in self.archs:
            built = executable
            if arch != main_arch:  # TVM's lowering depends on the arch: build the source for it
                begin = time.perf_counter()
                try:
                    built = tvm.compile(mod, target=tvm.target.Target({**target.export(), "arch": arch}))
                except Exception as exc:
                    report["archs"][arch] = "build failed"
                    report["failed_arch"] = arch
                    raise ArchBuildError(f"{arch}: {one_line_error(exc)}", report) from exc
                other_builds += time.perf_counter() - begin
            seconds, remembered = 0.0, True
            for source in kernel_sources(built.mod):
                log, spent, cached = self._compile(source, arch)
                seconds, remembered = seconds + spent, remembered and cached
                report["seconds"][arch] = round(seconds, 6)
                if log is not None:
                    raise self._rejected(report, arch, source, log)
            report["archs"][arch] = "compiled"
            if remembered:
                report["remembered"].append(arch)
        report["build_seconds_other_archs"] = round(other_builds, 6)
        report["seconds_total"] = round(time.perf_counter() - start, 6)
        return executable, report

    def _seen_by_tvm(self) -> dict:
        """The report of what TVM's own compile went through (one call per CUDA module)."""
        report = self._report("tvm.compile", dict.fromkeys(c["arch"] for c in self._calls))
        for call in self._calls:
            report["seconds"][call["arch"]] = round(report["seconds"].get(call["arch"], 0.0) + call["seconds"], 6)
        return report

    def _report(self, where: str, archs) -> dict:
        return {"compiler": self.mode, "where": where, "archs": {a: "not tried" for a in archs},
                "seconds": {}, "remembered": [], "cuda_path": self.cuda_path}

    def _rejected(self, report: dict, arch: str, source: str, log: str) -> DeviceCompileError:
        error = first_error(log)
        report["archs"][arch] = "rejected"
        report.update(failed_arch=arch, first_error=error["text"], errors=error["errors"],
                      source_line=error["source_line"], kernel=enclosing_kernel(source, error["source_line"]))
        return DeviceCompileError(_describe(self.mode, arch, error), report)

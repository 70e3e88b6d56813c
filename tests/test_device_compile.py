"""CUDA kernels are compiled for real: a kernel the device compiler rejects is a compile_error.

The fault is real: a convert map whose `sin` kernel calls a function no CUDA header declares.
TVM generates the kernel without complaint (its fallback module only holds the source); the
device compiler, run as TVM runs it on a GPU host, rejects it. These tests need the device
compiler (NVRTC through cuda-bindings and the CUDA headers, or nvcc); on a machine without one
they are skipped with the doctor's reason, never silently.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from harness import device_compile as dc
from harness.signature import error_signature, one_line_error
from tests import converters
from tests.helpers import run, sin_case

UNDEFINED = "tests.converters:UNDEFINED_DEVICE_FUNCTION"
MESSAGE = 'error: identifier "harness_undefined_device_function" is undefined'


def _usable() -> str | None:
    before = os.environ.get("CUDA_PATH")
    try:
        dc.DeviceCompiler(archs=("sm_80",)).check(hint="")
    except Exception as exc:  # noqa: BLE001 - the reason is shown in the skip
        return str(exc)
    finally:  # configure_cuda_path may have set it: leave this process as it was
        os.environ.pop("CUDA_PATH", None) if before is None else os.environ.update(CUDA_PATH=before)
    return None


NO_COMPILER = _usable()
needs_compiler = pytest.mark.skipif(NO_COMPILER is not None, reason=f"no CUDA device compiler: {NO_COMPILER}")
needs_no_gpu = pytest.mark.skipif(dc.runtime_compiles(), reason="TVM compiles kernels itself on this GPU host")


def _sin_module(convert_map=None):
    from tvm.relax.frontend.torch import from_exported_program

    class Sin(torch.nn.Module):
        def forward(self, x):
            return torch.sin(x)

    ep = torch.export.export(Sin(), (torch.randn(3, 4),)).run_decompositions()
    return from_exported_program(ep, run_ep_decomposition=False, custom_convert_map=convert_map)


@needs_compiler
@needs_no_gpu
def test_a_kernel_the_device_compiler_rejects_is_a_compile_error(tmp_path, monkeypatch):
    monkeypatch.setenv(dc.ARCHS_VARIABLE, "sm_80,sm_90")
    records = run([sin_case()], tmp_path, UNDEFINED, target="cuda")
    sin = records["aten.sin.default[float32-0]"]
    assert (sin["status"], sin["stage"]) == ("compile_error", "compile")
    assert sin["error"] == f"DeviceCompileError: nvrtc sm_80: {MESSAGE}"
    report = sin["device_compile"]
    assert report["archs"] == {"sm_80": "rejected", "sm_90": "not tried"}
    assert report["failed_arch"] == "sm_80" and report["where"] == "harness"
    assert "harness_undefined_device_function(" in report["source_line"]
    assert report["kernel"] and report["errors"] == 1
    # the repro compiles the same kernels the same way and says the same
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}  # the convert map
    done = subprocess.run([sys.executable, sin["repro"]], capture_output=True, text=True, timeout=300, env=env)
    assert done.stdout.strip().splitlines()[-1] == "status: compile_error", done.stdout + done.stderr
    assert "harness_undefined_device_function" in done.stdout


@needs_compiler
@needs_no_gpu
def test_the_same_case_with_the_importers_converter_compiles_for_every_arch(tmp_path, monkeypatch):
    monkeypatch.setenv(dc.ARCHS_VARIABLE, "sm_80,sm_90")
    sin = run([sin_case()], tmp_path, target="cuda")["aten.sin.default[float32-0]"]
    assert (sin["status"], sin["skip_reason"]) == ("skip", "no-gpu")
    assert sin["device_compile"]["archs"] == {"sm_80": "compiled", "sm_90": "compiled"}
    assert all(s > 0 for s in sin["device_compile"]["seconds"].values())


@needs_compiler
def test_nvcc_rejects_it_too_and_the_signature_groups_across_archs_and_compilers(monkeypatch):
    import tvm

    mod = _sin_module(converters.UNDEFINED_DEVICE_FUNCTION)
    target = tvm.target.Target({"kind": "cuda", "arch": "sm_90"})
    lines = {}
    for mode, arch in (("nvrtc", "sm_90"), ("nvcc", "sm_89")):
        if mode == "nvcc" and shutil.which("nvcc") is None:
            continue
        compiler = dc.DeviceCompiler(mode=mode, archs=(arch,))
        with pytest.raises(dc.DeviceCompileError) as raised:
            compiler.build(mod, target)
        lines[mode] = one_line_error(raised.value)
        assert lines[mode] == f"DeviceCompileError: {mode} {arch}: {MESSAGE}"
        assert error_signature("compile", lines[mode]) == \
            f"compile: DeviceCompileError: {mode} sm_?: {MESSAGE}"
    assert lines, "neither compiler ran"


@needs_compiler
def test_identical_sources_are_compiled_once_per_arch():
    import tvm

    compiler = dc.DeviceCompiler(archs=("sm_90",))
    target = tvm.target.Target({"kind": "cuda", "arch": "sm_90"})
    mod = _sin_module()
    _, first = compiler.build(mod, target)
    _, second = compiler.build(mod, target)
    assert first["archs"] == second["archs"] == {"sm_90": "compiled"}
    assert first["remembered"] == [] and second["remembered"] == ["sm_90"]


def test_first_error_reads_nvrtc_and_nvcc_logs():
    nvrtc_log = """
/usr/local/cuda/include/cuda_fp8.hpp(1461): warning #1444-D: class "double4" was declared deprecated
      explicit __CUDA_HOSTDEVICE_FP8__ __nv_fp8x4_e5m2(const double4 f) {
                                       ^
tvm_kernels.cu(214): error: no operator "<" matches these operands
        operand types are: __nv_bfloat16 < float
      if (x_ptr[0] < 0.0f) {
                   ^
tvm_kernels.cu(300): error: identifier "hsign" is undefined

2 errors detected in the compilation of "tvm_kernels.cu".
"""
    found = dc.first_error(nvrtc_log)
    assert found["text"] == 'error: no operator "<" matches these operands'
    assert (found["file"], found["line"], found["errors"]) == ("tvm_kernels.cu", 214, 2)
    assert found["source_line"] == "operand types are: __nv_bfloat16 < float"
    nvcc_message = "extern \"C\" __global__ void k() {}\nCompilation error:\n" \
        "/tmp/tmpa1b2/tvm_kernels.cu(9): error: identifier \"hsign\" is undefined\n\n1 error detected\n"
    assert dc.first_error(dc.compiler_log(nvcc_message))["text"] == 'error: identifier "hsign" is undefined'
    ptxas = "ptxas error   : Entry function 'k' uses too much shared data (0x12000 bytes, 0xc000 max)"
    assert dc.first_error(ptxas)["text"].startswith("error: Entry function 'k' uses too much shared data")
    assert dc.first_error("Cannot find CUDA headers in /x.")["text"] == "Cannot find CUDA headers in /x."


def test_enclosing_kernel_names_the_kernel_of_the_quoted_line():
    source = ('extern "C" __global__ void __launch_bounds__(64) first_kernel(float* a) {\n  a[0] = 1.0f;\n}\n'
              'extern "C" __global__ void second_kernel(float* a) {\n  a[0] = bad(a[1]);\n}\n')
    assert dc.enclosing_kernel(source, "a[0] = bad(a[1]);") == "second_kernel"
    assert dc.enclosing_kernel(source, "a[0] = 1.0f;") == "first_kernel"
    assert dc.enclosing_kernel(source, "not there") is None


def test_kernel_sources_walks_the_whole_import_tree():
    import tvm

    ex = tvm.compile(_sin_module(), target=tvm.target.Target({"kind": "cuda", "arch": "sm_90"}))
    sources = dc.kernel_sources(ex.mod)
    assert len(sources) == 1 and "__global__" in sources[0]
    assert dc.kernel_sources(tvm.compile(_sin_module(), target=tvm.target.Target("llvm")).mod) == []


def test_cuda_path_is_set_only_when_tvms_lookup_has_no_headers(monkeypatch, tmp_path):
    monkeypatch.delenv("CUDA_PATH", raising=False)
    found, _ = dc.tvm_cuda_path()
    chosen = dc.configure_cuda_path()
    if dc.has_headers(found):
        assert chosen is None and "CUDA_PATH" not in os.environ
    elif chosen is not None:
        assert os.environ["CUDA_PATH"] == chosen and dc.has_headers(chosen)
    monkeypatch.setenv("CUDA_PATH", str(tmp_path))  # a user's own setting is never overridden
    assert dc.configure_cuda_path() is None and os.environ["CUDA_PATH"] == str(tmp_path)
    assert not dc.has_headers(str(tmp_path))


def test_archs_variable_is_checked(monkeypatch):
    monkeypatch.setenv(dc.ARCHS_VARIABLE, "sm_80, sm_90a")
    assert dc.default_archs("nvrtc") == ("sm_80", "sm_90a")
    monkeypatch.setenv(dc.ARCHS_VARIABLE, "ampere")
    with pytest.raises(dc.CompilerUnusable, match="not of the form sm_NN"):
        dc.default_archs("nvrtc")


def test_an_unknown_compile_mode_is_refused(monkeypatch):
    monkeypatch.setenv("TVM_CUDA_COMPILE_MODE", "clang")
    with pytest.raises(dc.CompilerUnusable, match="'nvrtc' or 'nvcc'"):
        dc.DeviceCompiler()


@needs_compiler
def test_on_a_gpu_host_the_wrapped_callback_times_and_keeps_the_log():
    """The GPU-host branch: TVM calls the callback; the wrapper must return TVM's binary, and
    keep the arch and log of a rejection (called here directly, as TVM's codegen calls it)."""
    import tvm
    import tvm_ffi

    original = tvm_ffi.get_global_func("tvm_callback_cuda_compile")
    compiler = dc.DeviceCompiler(archs=("sm_90",))
    try:
        compiler._wrap_callback()
        callback = tvm_ffi.get_global_func("tvm_callback_cuda_compile")
        with tvm.target.Target({"kind": "cuda", "arch": "sm_90"}):
            binary = callback('extern "C" __global__ void ok(float* a) { a[0] = 1.0f; }')
            with pytest.raises(Exception, match="harness_undefined_device_function"):
                callback('extern "C" __global__ void bad(float* a) { a[0] = harness_undefined_device_function(); }')
    finally:
        tvm_ffi.register_global_func("tvm_callback_cuda_compile", original, override=True)
    assert len(bytes(binary)) > 0
    good, bad = compiler._calls
    assert (good["arch"], good["log"]) == ("sm_90", None)
    assert bad["arch"] == "sm_90" and "harness_undefined_device_function" in bad["log"]


@pytest.mark.skipif(dc.compile_mode() != "nvrtc", reason="only TVM's NVRTC path reads CUDA_PATH")
def test_an_unusable_compiler_stops_the_run_with_one_line(tmp_path):
    env = {**os.environ, "CUDA_PATH": str(tmp_path / "no-cuda"),
           "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    done = subprocess.run([sys.executable, "-m", "harness", "run", "--target", "cuda", "--ops",
                           "aten.sin.default[float32-0]", "--jobs", "1", "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 2, done.stdout + done.stderr
    errors = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("harness: error: CompilerUnusable"), done.stderr
    assert "harness doctor" in errors[0] and "no-cuda" in errors[0]
    assert json.loads((tmp_path / "out" / "run.json").read_text())["target"] == "cuda"

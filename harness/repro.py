"""Standalone repro scripts: one per failing record, runnable with only torch and TVM.

The script embeds, verbatim, the module that defines the case's program factory and
harness/compare.py, so it rebuilds the exact program and judges it with the same code;
its arguments (tensors included, strides kept) travel as a torch.save blob. It runs the
same stages and prints `status: WORD` last, exiting 0 only on pass.
"""

from __future__ import annotations

import base64
import importlib
import inspect
import io
import pickle
import re
import sys
from pathlib import Path

import torch

from harness import compare, transfer
from harness.case import Case, safe_name

_FUTURE = re.compile(r"^from __future__ import .*$", re.M)


def _module_source(func) -> tuple[str, str]:
    module = sys.modules[func.__module__]
    return module.__name__, _FUTURE.sub("", inspect.getsource(module))


class _Torch:
    """Pickles as `import torch`, so the repro's unpickler can look attributes up on it."""

    def __reduce__(self):
        return importlib.import_module, ("torch",)


class _Pickler(pickle.Pickler):
    """torch.memory_format cannot be pickled ("cannot pickle 'module' object"): spell each as
    getattr(torch, name), which the repro's torch.load(weights_only=False) rebuilds."""

    def reducer_override(self, obj):
        if isinstance(obj, torch.memory_format):
            return getattr, (_Torch(), str(obj).removeprefix("torch."))
        return NotImplemented


class _pickle_module:  # noqa: N801 - stands in for the pickle module torch.save takes
    Pickler = _Pickler
    HIGHEST_PROTOCOL = pickle.HIGHEST_PROTOCOL


def _blob(value) -> str:
    buffer = io.BytesIO()
    torch.save(value, buffer, pickle_module=_pickle_module)
    return base64.b64encode(buffer.getvalue()).decode()


def _describe(value) -> str:
    if isinstance(value, torch.Tensor):
        layout = "" if value.is_contiguous() else f", strides={tuple(value.stride())}"
        return f"Tensor(shape={tuple(value.shape)}, dtype={compare.dtype_name(value.dtype)}{layout})"
    if isinstance(value, list | tuple):
        inner = ", ".join(_describe(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_describe(v)}" for k, v in value.items()) + "}"
    return repr(value)


_TEMPLATE = '''#!/usr/bin/env python3
"""Repro for {case_id} on {target}{road_label}: {status} ({raw_status}) at stage {stage}.

error: {error}
seed: {seed}    dtype: {dtype}    inputs: {shapes}
arguments: {arguments}
{notes}
Needs only torch and apache-tvm (torchvision for models). {road_doc}
prints `status: WORD` last and exits 0 only when the case passes.
"""
from __future__ import annotations

import base64
import io
import sys

import torch
import tvm
from tvm import relax
{road_import}

# ---------------------------------------------------------------- the case
SEED = {seed}
KWARGS = torch.load(io.BytesIO(base64.b64decode("{kwargs_blob}")), weights_only=False)
SIZE = {size!r}
DYNAMIC = {dynamic!r}
DECOMPOSE = {decompose!r}
TOLERANCE = {tolerance!r}
TARGET = {tvm_target!r}
CONVERT_MAP = {convert_map!r}
# CUDA without a GPU: the archs the kernels are compiled for, as TVM compiles them on a GPU host
DEVICE_ARCHS = {device_archs!r}
if {cuda_path!r}:  # TVM's own lookup found no CUDA headers where the harness ran: it used these
    import os
    os.environ.setdefault("CUDA_PATH", {cuda_path!r})


def finish(status, detail=""):
    if detail:
        print(detail)
    print(f"status: {{status}}")
    sys.exit(0 if status == "pass" else 1)


def stage(name, status, fn):
    try:
        return fn()
    except Exception as exc:  # the stage's verdict
        finish(status, f"{{name}} failed: {{type(exc).__name__}}: {{exc}}")


def dynamic_shapes():
    if DYNAMIC is None:
        return None
    dims = {{n: torch.export.Dim(n, min=lo, max=hi) for n, (lo, hi) in DYNAMIC["dims"].items()}}
    return tuple(None if axes is None else {{int(a): eval(e, {{}}, dict(dims)) for a, e in axes.items()}}
                 for axes in DYNAMIC["shapes"])


{road_definitions}


def device_compile(mod, ex):
    """The kernels through TVM's own device-compile callback, per arch (the source is built
    for each arch, as TVM's lowering depends on it); the compiler's whole log on failure."""
    import tvm_ffi
    compile_kernels = tvm_ffi.get_global_func("tvm_callback_cuda_compile")
    for arch in DEVICE_ARCHS:
        target = tvm.target.Target({{**TARGET, "arch": arch}})
        built = ex if arch == TARGET.get("arch") else stage(
            f"compile for {{arch}}", "compile_error", lambda: tvm.compile(mod, target=target))
        modules, sources = [built.mod], []
        while modules:
            module = modules.pop()
            if module.kind == "cuda":
                sources.append(module.inspect_source("cuda"))
            modules.extend(module.imports)
        for source in sources:
            with target:
                stage(f"device compile for {{arch}}", "compile_error", lambda: compile_kernels(source))


def flat(value):
    leaves, _ = torch.utils._pytree.tree_flatten(value)
    return [x for x in leaves if x is not None]


def tvm_flat(value):
    import tvm_ffi
    if isinstance(value, tvm_ffi.Tensor):
        return [torch.from_dlpack(value).cpu().clone()]
    if isinstance(value, tvm_ffi.Shape):
        return [int(v) for v in value]
    if isinstance(value, (tvm_ffi.Array, list, tuple)):
        return [leaf for item in value for leaf in tvm_flat(item)]
    return [value]


def main():
    torch.manual_seed(SEED)
    module, inputs = {factory_name}(**KWARGS)
    with torch.no_grad():
        import copy
        expected = stage("eager", "skip", lambda: flat(module(*copy.deepcopy(inputs))))
{steps}
{compare_call}


# ---------------------------------------------------------------- program factory
# (verbatim from module {factory_module})
{factory_source}
# ---------------------------------------------------------------- values to and from the device
# (verbatim from module harness.transfer)
{transfer_source}
# ---------------------------------------------------------------- comparison
# (verbatim from module harness.compare)
{compare_source}
{check_source}
{tail_source}

if __name__ == "__main__":
    main()
'''


# The export road's parts of the template (harness.road_repro has the other roads').
_EXPORT_DOC = """Runs eager, torch.export,
run_decompositions, from_exported_program, tvm.compile, the Relax VM and the comparison;"""

_EXPORT_CONVERT_MAP = '''def convert_map():
    if not CONVERT_MAP:
        return None, frozenset()
    import importlib
    module, attr = CONVERT_MAP.split(":")
    table = getattr(importlib.import_module(module), attr)
    custom = {k: v for k, v in table.items() if v is not None}
    removed = frozenset(k for k, v in table.items() if v is None)
    if removed:  # a None entry removes the importer's own converter
        from tvm.relax.frontend.torch.exported_program_translator import ExportedProgramImporter
        original = ExportedProgramImporter.create_convert_map
        ExportedProgramImporter.create_convert_map = lambda self: {
            k: v for k, v in original(self).items() if k not in removed}
    return custom or None, removed'''

_EXPORT_FRONT = '''    ep = stage("export", "export_error",
               lambda: torch.export.export(module, copy.deepcopy(inputs), dynamic_shapes=dynamic_shapes()))
    if DECOMPOSE:
        ep = stage("decompose", "export_error", ep.run_decompositions)
    custom, _ = convert_map()

    def do_import():
        try:
            return from_exported_program(ep, run_ep_decomposition=False, custom_convert_map=custom)
        except AssertionError as exc:
            if "Unsupported function type" in str(exc):
                finish("import_unsupported", str(exc))
            raise
    mod = stage("import", "import_error", do_import)'''

# After the import, every road that builds with tvm.compile (export, fx): a template of its own,
# formatted with the factory's name.
_COMPILE_AND_RUN = '''    ex = stage("compile", "compile_error", lambda: tvm.compile(mod, target=tvm.target.Target(TARGET)))
    if TARGET["kind"] == "cuda" and not tvm.cuda(0).exist:
        device_compile(mod, ex)
        finish("skip", f"compiled for CUDA, kernels for {{', '.join(DEVICE_ARCHS)}}; no GPU here to run it (no-gpu)")
    device = tvm.cuda(0) if TARGET["kind"] == "cuda" else tvm.cpu(0)
    if SIZE:
        module, inputs = {factory_name}(**{{**KWARGS, **SIZE}})
        with torch.no_grad():
            expected = flat(module(*copy.deepcopy(inputs)))

    def run():
        vm = relax.VirtualMachine(ex, device)
        tensors = [x for x in flat(inputs) if isinstance(x, torch.Tensor)]
        return tvm_outputs(vm["main"](*device_inputs(tensors, device)))
    actual = stage("run", "run_error", run)'''

_COMPARE_VALUES = '''    result = compare_outputs(expected, actual, tol=TOLERANCE)
    print(f"max_abs_err={result['max_abs_err']} max_rel_err={result['max_rel_err']} degenerate={result['degenerate']}")
    finish("pass" if result["ok"] else "mismatch", result["message"] or "")'''

_COMPARE_CHECK = '''    message = compare_structure(expected, actual) or {check_name}(expected, actual, inputs)
    finish("pass" if message is None else "mismatch", message or "")'''


_SYMBOLIC_CALL = '''    shapes = [None if a is None else {int(k): v for k, v in a.items()} for a in DYNAMIC["shapes"]]
    problems = symbolic_check(DYNAMIC["dims"], shapes, ep, mod)["problems"]
    if problems:
        finish("import_error", "symbolic check: " + "; ".join(problems))'''


def render(case: Case, record: dict, tvm_target: dict, convert_map: str | None,
           only_because: str | None = None) -> str:
    factory_module, factory_source = _module_source(case.program.factory)
    _, compare_source = _module_source(compare.compare_outputs)
    _, transfer_source = _module_source(transfer.tvm_outputs)
    device = record.get("device_compile") or {}
    check_source, compare_call = "", _COMPARE_VALUES
    if case.check is not None:
        check_module, source = _module_source(case.check)
        if check_module != factory_module:
            check_source = f"# (verbatim from module {check_module})\n{source}"
        compare_call = _COMPARE_CHECK.format(check_name=case.check.__name__)
    dynamic, symbolic_call, symbolic_source = None, "", ""
    if case.dynamic is not None:
        from harness import symbolic

        _, source = _module_source(symbolic.symbolic_check)
        symbolic_source = f"# (verbatim from module harness.symbolic)\n{source}"
        symbolic_call = _SYMBOLIC_CALL
        dynamic = {"dims": {k: list(v) for k, v in case.dynamic.dims.items()},
                   "shapes": [None if a is None else {str(k): v for k, v in a.items()}
                              for a in case.dynamic.shapes]}
    factory_name = case.program.factory.__name__
    from harness import road_repro

    if record.get("frontend", "export") == "export":
        road = {"road_label": "", "road_doc": _EXPORT_DOC, "road_import": road_repro.IMPORT["export"],
                "road_definitions": _EXPORT_CONVERT_MAP, "tail_source": symbolic_source,
                "steps": f"{_EXPORT_FRONT}\n{symbolic_call}\n{_COMPILE_AND_RUN.format(factory_name=factory_name)}"}
    else:
        road = road_repro.full_parts(record)
        builds = road.pop("builds")
        road["steps"] = road.pop("front") + (
            f"\n{_COMPILE_AND_RUN.format(factory_name=factory_name)}" if builds else "")
    notes = "\n".join(f"{k}: {v}" for k, v in sorted(case.meta.items()) if k in ("reproduce", "hypothesis", "note"))
    short = (f"short form: none, this is the only repro ({only_because})" if only_because
             else f"short form: {safe_name(record['case_id'])}.short.py (the case in one screen)")
    notes = f"{notes}\n{short}".strip().replace('"""', "'''")
    return _TEMPLATE.format(
        case_id=record["case_id"], target=record["target"], status=record["status"],
        raw_status=record.get("raw_status"), stage=record.get("stage"),
        error=(record.get("error") or "").replace('"""', "'''"), seed=case.seed, dtype=case.dtype,
        shapes=record.get("input_shapes"), arguments=_describe(dict(case.program.kwargs)).replace('"""', "'''"),
        notes=notes, factory_module=factory_module, factory_source=factory_source,
        compare_source=compare_source, check_source=check_source, transfer_source=transfer_source,
        device_archs=list(device.get("archs") or ()) if device.get("where") == "harness" else [],
        cuda_path=device.get("cuda_path"),
        kwargs_blob=_blob(dict(case.program.kwargs)), size=record.get("sizes"), dynamic=dynamic,
        decompose=case.decompose,
        tolerance=(case.tolerance.rtol, case.tolerance.atol) if case.tolerance else None,
        tvm_target=tvm_target, convert_map=convert_map, factory_name=factory_name,
        compare_call=compare_call, **road,
    )


def write(case: Case, record: dict, out_dir: Path, tvm_target: dict, convert_map: str | None,
          only_because: str | None = None) -> str:
    """Write the full repro; `only_because` says why there is no short form, if there is none."""
    path = Path(out_dir) / "repro" / record["target"] / f"{safe_name(record['case_id'])}.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(case, record, tvm_target, convert_map, only_because))
    return str(path)


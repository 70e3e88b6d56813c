"""Short repro scripts: the failing case as a TVM maintainer would write it, in about one screen.

Next to the full repro (harness.repro, which embeds the factory and the comparison and ships
the arguments as a blob), each failing case (op, OpInfo, dynamic, model) gets a short form:

    inputs as literals (harness.literals: exact values for small tensors, a seeded draw with
    the edge values put back for large ones) -> a module whose forward makes the call as a
    user writes it (harness.calls) -> export [with torch.export.Dim] -> decomposition ->
    from_exported_program -> tvm.compile -> the Relax VM -> one comparison that prints the
    differing facet (count, shape, dtype, values: the first differing elements, NaN pattern)

It prints `status: WORD` last and exits 0 only on pass, like the full one. It imports torch,
TVM (and torchvision where the program needs it), never the harness, and holds no pickled data.

The program is recorded from the factory's module by running it once (harness.calls), unless
it is not a short line of torch calls (a dynamic program's class, a model): then the factory's
module spells it, by defining

    short_program(**kwargs) -> {"imports": [import lines], "source": [the module's functions and
                                classes, or names of its module-level assignments], "build": [lines
                                making `model`], "inputs": an expression for the inputs, or None}

called with the factory's keywords (None: the writer writes the factory's inputs as literals; a
dynamic program's hook is called with the export example's keywords and with the run size's).
Where the short form cannot express
a case (a custom convert map, a failure of the symbolic check, a property check, an argument
with no literal form) `render` raises `Unwritable` and the record says why (`short_repro_error`).
"""

from __future__ import annotations

import ast
import copy
import inspect
import re
import sys
from pathlib import Path

import torch

from harness import road_repro
from harness.calls import forward_source, input_names
from harness.case import Case, safe_name
from harness.literals import (
    EXACT_LIMIT,
    Unwritable,
    dtype_source,
    names_used,
    same_bits,
    tensor_source,
)

# Statuses reached only by running TVM's output through the comparison.
_COMPARED = ("mismatch",)

_COMPARE = '''
def compare(expected, actual):  # the first facet that differs: count, shape, dtype, values
    if len(expected) != len(actual): return f"count: expected {len(expected)} outputs, got {len(actual)}"
    for i, (e, a) in enumerate(zip(map(torch.as_tensor, expected), map(torch.as_tensor, actual))):
        if e.shape != a.shape or e.dtype != a.dtype:
            return f"output {i}: expected {e.dtype} {list(e.shape)}, got {a.dtype} {list(a.shape)}"
'''

_COMPLEX = "        if e.is_complex(): e, a = torch.view_as_real(e), torch.view_as_real(a)\n"

_VALUES = '''        rtol, atol = TOL.get(e.dtype, (0.0, 0.0))  # NaN matches NaN, an infinity only itself
        e64, a64 = (e.double(), a.double()) if e.is_floating_point() else (e.long(), a.long())
        bad = ~((a64 - e64).abs() <= atol + rtol * e64.abs()) & (e64 != a64) & ~(e64.isnan() & a64.isnan())
        if bad.any():
            return (f"output {i} values: {int(bad.sum())} of {bad.numel()} differ (rtol={rtol}, atol={atol}; NaN: "
                    f"{int(e64.isnan().sum())} expected, {int(a64.isnan().sum())} got): " + ", ".join(
                        f"at {k} expected {e[k].item()} got {a[k].item()}" for k in map(tuple, bad.nonzero()[:4].tolist())))
'''

_LEAVES = '''
def leaves(out):  # eager's or TVM's outputs (tensors, arrays, shapes) as a flat list
    if isinstance(out, tvm_ffi.Tensor): return [torch.from_dlpack(out).cpu().clone()]
    if isinstance(out, (tvm_ffi.Array, tvm_ffi.Shape, list, tuple)): return [y for x in out for y in leaves(x)]
    return [y for y in torch.utils._pytree.tree_leaves(out) if y is not None]
'''


def _factory_hook(case: Case):
    module = sys.modules.get(case.program.factory.__module__)
    return getattr(module, "short_program", None)


def _seeded_build(case: Case, **overrides):
    from harness.stages import seed_everything

    seed_everything(case.seed)
    return case.program.build(**overrides)


def _flat_tensors(inputs) -> list:
    leaves = [x for x in torch.utils._pytree.tree_leaves(inputs) if x is not None]
    if not all(isinstance(x, torch.Tensor) for x in leaves):
        raise Unwritable("an input of the program is not a tensor")
    return leaves


def _tolerance_lines(case: Case, output, fallback: str) -> list[str]:
    """`TOL`: the (rtol, atol) the case is judged with, per floating output dtype."""
    from harness.compare import default_tolerance

    dtypes = []
    for leaf in torch.utils._pytree.tree_leaves(output) if output is not None else ():
        if isinstance(leaf, torch.Tensor):
            real = leaf.real.dtype if leaf.is_complex() else leaf.dtype
            if real.is_floating_point and real not in dtypes:
                dtypes.append(real)
    if output is None and fallback in ("float64", "float32", "float16", "bfloat16"):
        dtypes = [getattr(torch, fallback)]
    pairs = [(d, (case.tolerance.rtol, case.tolerance.atol) if case.tolerance else default_tolerance(d))
             for d in dtypes]
    text = ", ".join(f"{dtype_source(d)}: ({r!r}, {a!r})" for d, (r, a) in pairs)
    why = f"  # {case.tolerance.reason[:60]}..." if case.tolerance else "  # (rtol, atol) per output dtype"
    return [f"TOL = {{{text}}}{why}"]


def _inputs_lines(tensors, names, limit: int, seed: int, comment: bool = True) -> list[str]:
    lines = []
    for index, (t, name) in enumerate(zip(tensors, names, strict=True)):
        lines += tensor_source(t, name, limit=limit, seed=seed + index, comment=comment)[0]
    return lines


def _definitions(module, items) -> str:
    """Source of a factory module's definitions: a function or class (docstring left out), or the
    module-level assignment of a name given as a string."""
    chunks = []
    for item in items:
        if isinstance(item, str):
            tree = ast.parse(inspect.getsource(module))
            found = [node for node in tree.body if isinstance(node, ast.Assign)
                     and any(isinstance(t, ast.Name) and t.id == item for t in node.targets)]
            if not found:
                raise Unwritable(f"{module.__name__} assigns no {item!r}")
            chunks.append(ast.get_source_segment(inspect.getsource(module), found[0]))
            continue
        lines = inspect.getsource(item).splitlines()
        node = ast.parse("\n".join(lines)).body[0]
        first = node.body[0] if node.body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
            end = first.end_lineno + (first.end_lineno < len(lines) and not lines[first.end_lineno].strip())
            del lines[first.lineno - 1:end]
        chunks.append("\n".join(lines))
    return "\n\n".join(chunks)


def _ordered_imports(extra: set[str], importer: str) -> list[str]:
    """The standard library, torch and TVM, then what the program needs, then the importer."""
    stdlib = sorted(line for line in extra | {"import sys"} if _bound_name(line) in sys.stdlib_module_names)
    others = sorted(extra - set(stdlib), key=lambda line: (line.startswith("from"), line))
    return [", ".join(stdlib + ["torch", "tvm", "tvm_ffi"]).replace(", import ", ", "), *others, importer]


def _bound_name(import_line: str) -> str:
    """The name an import line binds: `import torch.nn.functional as F` -> F, `import math` -> math."""
    words = import_line.split()
    return words[-1] if " as " in import_line or words[0] == "from" else words[1].split(".")[0]


def _identifiers(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", text))


def _mutated(before: list, after: list) -> bool:
    return any(not same_bits(a, b) for a, b in zip(before, after, strict=True))


def _program(case: Case, record: dict) -> dict:
    """The program's parts: imports, definitions (`source`), lines building `model`, lines building
    the inputs, their names and tensors (`names`, `flat`; None when the factory spells the inputs),
    eager's output where it was run (`output`), and whether eager mutates its inputs (`mutates`)."""
    hook = _factory_hook(case)
    size = record.get("sizes") or {}
    ran_eager = record.get("stage") not in (None, "eager")  # eager survived in the worker: safe here
    if hook is None and not ran_eager:
        raise Unwritable("eager itself failed: the program's calls could not be recorded")
    part = {"imports": [], "source": "", "output": None, "mutates": False}
    if hook is not None:
        spelled = hook(**{**case.program.kwargs, **size})
        part.update(imports=list(spelled.get("imports", ())), build=list(spelled["build"]),
                    source=_definitions(sys.modules[case.program.factory.__module__], spelled.get("source", ())))
        if spelled.get("inputs") is not None:
            return {**part, "inputs": [f"inputs = {spelled['inputs']}"], "names": None, "flat": None}
    module, inputs = _seeded_build(case, **size)
    if record.get("frontend", "export") != "export":
        module = road_repro.short_module(module, inputs, record)
    tensors = _flat_tensors(inputs)
    names = input_names(len(tensors))
    copies = [copy.deepcopy(t) for t in tensors]  # one per input, even where the case passes one twice
    if hook is None:
        if len(tensors) != len(inputs):
            raise Unwritable("the program takes nested inputs")
        names, body, part["output"] = forward_source(module, copies)
        part["source"] = "\n".join(["class Repro(torch.nn.Module):", f"    def forward(self, {', '.join(names)}):"]
                                   + [f"        {line}" for line in body])
        part["build"] = ["model = Repro()"]
    elif case.tolerance is None and ran_eager:
        with torch.no_grad():
            part["output"] = module(*torch.utils._pytree.tree_unflatten(
                copies, torch.utils._pytree.tree_flatten(inputs)[1]))
    part["mutates"] = _mutated(tensors, copies)
    part.update(names=names, flat=tensors,
                inputs=_inputs_lines(tensors, names, EXACT_LIMIT, case.seed))
    return part


def _dynamic_lines(case: Case, names: list[str] | None, example_lines: list[str]) -> list[str]:
    spec = case.dynamic
    taken = set(names or ())
    clash = sorted(taken & set(spec.dims))
    if clash:
        raise Unwritable(f"a dim shares its name with an input ({', '.join(clash)})")
    lines = [f"{n} = torch.export.Dim({n!r}, min={lo}, max={hi})" for n, (lo, hi) in spec.dims.items()]
    shapes = ", ".join("None" if axes is None else "{" + ", ".join(f"{a}: {e}" for a, e in sorted(axes.items())) + "}"
                       for axes in spec.shapes)
    lines.append(f"dynamic_shapes = ({shapes}{',' if len(spec.shapes) == 1 else ''})")
    return lines + example_lines


def _to_tvm(tensors, dtype: str, device: str) -> tuple[str, list[str]]:
    """The expression that hands torch tensor `t` to TVM (through NumPy, as the harness does), and its
    imports. `tensors`: the inputs, or None where the factory spells them (then `dtype` tells)."""
    at = "" if device == "tvm.cpu(0)" else f", {device}"
    known = tensors is not None
    contiguous = "" if known and all(t.is_contiguous() for t in tensors) else ".contiguous()"
    bfloat16 = f"t{contiguous}.view(torch.int16).numpy().view(ml_dtypes.bfloat16)"  # NumPy has no bfloat16
    if known and tensors and all(t.dtype == torch.bfloat16 for t in tensors):
        return f"tvm.runtime.tensor({bfloat16}{at})", ["import ml_dtypes"]
    if any(t.dtype == torch.bfloat16 for t in tensors) if known else dtype == "bfloat16":
        return (f"tvm.runtime.tensor({bfloat16} if t.dtype == torch.bfloat16 else t{contiguous}.numpy(){at})",
                ["import ml_dtypes"])
    return f"tvm.runtime.tensor(t{contiguous}.numpy(){at})", []


def _pipeline(case: Case, part: dict, tvm_target: dict, road: str = "export") -> tuple[list[str], list[str], str]:
    """The stages, each under the status it fails with, and the verdict; the imports they need;
    and the road's importer."""
    dynamic = case.dynamic is not None
    device = "tvm.cuda(0)" if tvm_target["kind"] == "cuda" else "tvm.cpu(0)"
    to_tvm, imports = _to_tvm(part.get("flat"), case.dtype, device)
    target = repr(tvm_target["kind"]) if set(tvm_target) == {"kind"} else f"tvm.target.Target({tvm_target!r})"
    fresh = "copy.deepcopy(inputs)" if part.get("mutates") else "inputs"
    export_args = "model, example, dynamic_shapes=dynamic_shapes" if dynamic else f"model, {fresh}"
    decompose = ".run_decompositions()" if case.decompose else ""
    eager = [f"    with torch.no_grad(): expected = leaves(model(*{fresh}))"]
    each = "inputs" if part.get("names") is not None else "torch.utils._pytree.tree_leaves(inputs)"
    lines = ["status = \"skip\"  # the failing stage's status is printed last, exit 0 only on pass", "try:"]
    lines += [] if dynamic else eager
    if road == "export":
        importer = road_repro.IMPORT["export"]
        lines += [f"    status = \"export_error\"; ep = torch.export.export({export_args}){decompose}",
                  "    status = \"import_error\"; mod = from_exported_program(ep, run_ep_decomposition=False)"]
    else:
        steps, definitions, importer = road_repro.short_steps(road, each, fresh)
        lines = definitions + [""] * bool(definitions) + lines + steps
    if road != "dynamo":
        lines.append(f"    status = \"compile_error\"; ex = tvm.compile(mod, target={target})")
    if tvm_target["kind"] == "cuda":
        lines.append("    status = \"skip\"; assert tvm.cuda(0).exist, \"compiled for CUDA; no GPU here to run it\"")
    lines += ["    status = \"skip\""] + eager if dynamic else []
    if road != "dynamo":
        lines += [f"    status = \"run_error\"; vm = tvm.relax.VirtualMachine(ex, {device})",
                  f"    actual = leaves(vm[\"main\"](*[{to_tvm} for t in {each}]))"]
    # Through dynamo TVM's error comes wrapped in dynamo's: its message still names the missing op.
    raised = ("status == \"import_error\"" if road == "dynamo" else "isinstance(exc, AssertionError)")
    lines += ["except Exception as exc:  # an op without a converter is import_unsupported",
              "    print(f\"{type(exc).__name__}: {exc}\"[:2000])",
              f"    unsupported = {raised} and \"Unsupported function type\" in str(exc)",
              "    sys.exit(print(f\"status: {'import_unsupported' if unsupported else status}\") or 1)"]
    lines += road_repro.SHORT_DYNAMO_VERDICT if road == "dynamo" else []
    lines += ["problem = compare(expected, actual)",
              "print(problem or \"outputs agree\", f\"status: {'mismatch' if problem else 'pass'}\", sep=\"\\n\")",
              "sys.exit(1 if problem else 0)"]
    if part.get("mutates"):
        imports.append("import copy")
    return lines, imports, importer


def render(case: Case, record: dict, tvm_target: dict, convert_map: str | None) -> str:
    """The short repro's source; raises Unwritable (with the reason) where it cannot express the case."""
    if convert_map:
        raise Unwritable(f"the run used the custom convert map {convert_map}: only the full repro loads it")
    if record.get("stage") == "symbolic":
        raise Unwritable("the failure is the harness's symbolic check of the imported module (full repro only)")
    raw = record.get("raw_status") or record["status"]
    if case.check is not None and raw in _COMPARED:
        raise Unwritable(f"a property check ({case.check.__name__}) judges the values, not an equality")
    if record.get("frontend", "export") != "export":
        road_repro.check_short(record, recorded=_factory_hook(case) is None)
    part = _program(case, record)
    data = list(part["inputs"])
    if part.get("names") is not None:
        data.append(f"inputs = ({', '.join(part['names'])},)")
    if case.dynamic is not None:
        data += _dynamic_lines(case, part.get("names"), _example_lines(case, part))
    data += _tolerance_lines(case, part.get("output"), case.dtype)
    used = names_used("\n".join(data))
    specials = [f"{n} = float({n!r})" for n in ("nan", "inf") if n in used]
    road = record.get("frontend", "export")
    if road == "fx" and part.get("names") is None:
        raise Unwritable("the factory spells the inputs: only the full repro traces them as the fx road does")
    pipeline, pipeline_imports, importer = _pipeline(case, part, tvm_target, road)
    used_text = "\n".join([part["source"], *part["build"], *data, *pipeline])
    wanted = {line for line in pipeline_imports + part["imports"] if _bound_name(line) in _identifiers(used_text)}
    imports = _ordered_imports(wanted, importer)
    complex_ = part.get("output") is None or any(
        isinstance(t, torch.Tensor) and t.is_complex() for t in torch.utils._pytree.tree_leaves(part["output"]))
    compare = _COMPARE + (_COMPLEX if complex_ else "") + (_VALUES if case.check is None else
                          "        # the values are random: the case is judged by a property, not equality\n")
    helpers = _LEAVES.strip("\n") + "\n" + compare.strip("\n") + "\n    return None"
    data = "\n".join(specials + data)
    source, build = part["source"].strip("\n"), "\n".join(part["build"])
    # Literal inputs first, as one would write them; inputs the factory spells need its definitions first.
    middle = [data, source + "\n" + build] if part.get("names") is not None else [source, data + "\n" + build]
    sections = [_header(case, record) + "\n" + "\n".join(imports), *middle, helpers,
                "\n".join(pipeline)]
    return "\n\n".join(s for s in sections if s) + "\n"


def _example_lines(case: Case, part: dict) -> list[str]:
    """The export example of a dynamic program: the factory's inputs at its export sizes."""
    if part.get("flat") is None:
        return [f"example = {_factory_hook(case)(**case.program.kwargs)['inputs']}"]
    _, example_inputs = _seeded_build(case)
    names = [f"{n}_example" for n in part["names"]]
    lines = ["# export example: any values of these shapes (torch.export specialises a size of 0 or 1)"]
    lines += _inputs_lines(_flat_tensors(example_inputs), names, 8, case.seed, comment=False)
    return lines + [f"example = ({', '.join(names)},)"]


def _header(case: Case, record: dict) -> str:
    raw = record.get("raw_status") or record["status"]
    full = f"{safe_name(record['case_id'])}.py"
    lines = [f'"""{record["case_id"]} on {record["target"]}: {raw} at {record.get("stage")} '
             f"(short form of {full}, seed {case.seed})."]
    error = (record.get("error") or "").replace('"""', "'''").replace("\\", "\\\\")
    if error:
        lines.append(f"Recorded: {error[:150]}{'...' if len(error) > 150 else ''}")
    lines[-1] += '"""'
    return "\n".join(lines)


def write(case: Case, record: dict, out_dir: Path, tvm_target: dict, convert_map: str | None) -> str:
    """Write the short repro next to the full one; returns its path (raises Unwritable with why not)."""
    text = render(case, record, tvm_target, convert_map)
    if "base64" in text or "torch.load" in text:
        raise Unwritable("the short form would carry serialised data")
    path = Path(out_dir) / "repro" / record["target"] / f"{safe_name(record['case_id'])}.short.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)

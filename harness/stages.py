"""How ONE case goes through the stages, in the current process.

    eager -> export -> decompose -> import [-> symbolic] -> compile -> run -> compare

Every stage is timed on its own and its failure has its own status, so an importer error
is never reported as a run error. Isolation (crashes, hangs) is the worker's business
(harness.worker); this module only raises what the stage raised.

Decomposition is done here, with the same call the importer makes by default
(`ExportedProgram.run_decompositions()`), and the importer is then called with
`run_ep_decomposition=False`: the translation is identical (a test checks it) and the
harness gets the decomposed graph's aten ops and a separate timing for free.
"""

from __future__ import annotations

import contextlib
import copy
import random
import time
from collections.abc import Callable

import numpy as np
import torch

from harness import deploy, expect, memory
from harness.case import Case, safe_name
from harness.compare import (
    HALF_DTYPES,
    compare_outputs,
    compare_structure,
    describe,
    dtype_name,
    facet_signature,
)
from harness.records import per_size, size_case_id
from harness.session import Session  # noqa: F401 - part of this module's API
from harness.signature import error_signature, one_line_error, unsupported_ops
from harness.transfer import device_inputs, to_numpy, tvm_outputs  # noqa: F401 - part of this module's API


class StageFailure(Exception):
    def __init__(self, status: str, stage: str, error: str, **extra):
        super().__init__(error)
        self.status, self.stage, self.error, self.extra = status, stage, error, extra


class _Clock:
    """Times stages into record['seconds'] and their memory peaks into record['peak_rss_mb']."""

    def __init__(self, record: dict, progress: Callable[[str, dict], None]):
        self.record, self.progress = record, progress

    @contextlib.contextmanager
    def stage(self, name: str, status: str):
        self.record["stage"] = name
        self.progress(name, self.record)
        memory.reset_peak()
        start = time.perf_counter()
        try:
            yield
        except StageFailure:
            raise
        except Exception as exc:  # noqa: BLE001 - any exception is this stage's verdict
            raise StageFailure(status, name, one_line_error(exc), exc=exc) from exc
        finally:
            self.record["seconds"][name] = round(
                self.record["seconds"].get(name, 0.0) + time.perf_counter() - start, 6)
            self.record["peak_rss_mb"][name] = memory.peak_mb()


def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)


def flatten_outputs(value) -> list:
    leaves, _ = torch.utils._pytree.tree_flatten(value)
    return [x for x in leaves if x is not None]


def op_name(target) -> str | None:
    """Canonical name of a graph node's target: `aten.add.Tensor`, `operator.floordiv`,
    `higher_order.cond`, `torchvision.roi_align.default` (the names the coverage matrix uses)."""
    if isinstance(target, torch._ops.OpOverload):
        return f"{target.namespace}.{target.__name__}"
    if isinstance(target, torch._ops.HigherOrderOperator):
        return f"higher_order.{target.name()}"
    module = getattr(target, "__module__", None)
    if module in ("_operator", "operator"):
        return f"operator.{target.__name__}"
    return None


def graph_aten_ops(ep) -> list[str]:
    """Every op called in an exported program's graph (aten overloads, and the Python operators,
    higher-order ops and other namespaces the importer also converts), nested subgraphs included."""
    found: set[str] = set()
    for module in ep.graph_module.modules():
        if not isinstance(module, torch.fx.GraphModule):
            continue
        for node in module.graph.nodes:
            if node.op == "call_function" and (name := op_name(node.target)) is not None:
                found.add(name)
    return sorted(found)


def tensor_leaves(inputs) -> list:
    """The tensors among `inputs`, in pytree order: what the exported program takes as arguments."""
    return [x for x in flatten_outputs(inputs) if isinstance(x, torch.Tensor)]


def _shapes(inputs) -> tuple[list, list]:
    tensors = tensor_leaves(inputs)
    return [list(t.shape) for t in tensors], [dtype_name(t.dtype) for t in tensors]


def export_dynamic_shapes(case: Case, inputs):
    """The `dynamic_shapes` argument torch.export takes, built from the case's DynamicSpec."""
    if case.dynamic is None:
        return None
    dims = {name: torch.export.Dim(name, min=lo, max=hi) for name, (lo, hi) in case.dynamic.dims.items()}
    spec = []
    for axes in case.dynamic.shapes:
        if axes is None:
            spec.append(None)
        else:
            spec.append({axis: eval(expr, {"__builtins__": {}}, dict(dims)) for axis, expr in axes.items()})
    return tuple(spec)


@contextlib.contextmanager
def convert_map_removals(removed: frozenset[str]):
    """Drop converters from the importer for the duration (a convert map entry set to None)."""
    if not removed:
        yield
        return
    from tvm.relax.frontend.torch.exported_program_translator import ExportedProgramImporter

    original = ExportedProgramImporter.create_convert_map

    def without(self):
        table = original(self)
        return {k: v for k, v in table.items() if k not in removed}

    ExportedProgramImporter.create_convert_map = without
    try:
        yield
    finally:
        ExportedProgramImporter.create_convert_map = original


def _import(ep, convert_map: dict | None):
    from tvm.relax.frontend.torch import from_exported_program

    convert_map = convert_map or {}
    custom = {k: v for k, v in convert_map.items() if v is not None}
    removed = frozenset(k for k, v in convert_map.items() if v is None)
    with convert_map_removals(removed):
        return from_exported_program(ep, run_ep_decomposition=False, custom_convert_map=custom or None)


def symbolic_report(case: Case, ep, mod) -> dict:
    """The symbolic check of harness.symbolic for a dynamic case (declared dims vs the module)."""
    from harness import symbolic

    return symbolic.symbolic_check(dict(case.dynamic.dims), list(case.dynamic.shapes), ep, mod)


def _eager(module, inputs):
    with torch.no_grad():
        return flatten_outputs(module(*copy.deepcopy(inputs)))


def _to_float64(value):
    if isinstance(value, torch.Tensor) and value.is_floating_point():
        return value.detach().to(torch.float64)
    return value


def float64_run(fn, module, inputs, seed: int) -> list | None:
    """`fn(module, inputs)` again with every floating input and parameter in float64: the
    reference half precision is judged against. None when the program does not run so."""
    try:
        module64 = copy.deepcopy(module)
        if isinstance(module64, torch.nn.Module):
            module64 = module64.double()
        inputs64 = torch.utils._pytree.tree_map(_to_float64, copy.deepcopy(inputs))
        seed_everything(seed)
        with torch.no_grad():
            return flatten_outputs(fn(module64, inputs64))
    except Exception:  # noqa: BLE001 - no float64 reference: the dtype's own tolerance judges alone
        return None


def _call(module, inputs):
    return module(*inputs)


def _same(a: list, b: list) -> bool:
    return compare_outputs(a, b, tol=(0.0, 0.0))["ok"]


def run_case(case: Case, session: Session, base: dict,
             progress: Callable[[str, dict], None] = lambda stage, record: None,
             limit: float | None = None) -> list[dict]:
    """Run every stage of one case; returns its records (one, or one per dynamic size). `limit`
    is the case's own time limit (without the deploy stage's share), which sizes the loading
    process's of a shipped case."""
    if session.frontend != "export":
        from harness import frontends

        return frontends.run_case(case, session, base, progress)
    record = copy.deepcopy(base)
    clock = _Clock(record, progress)
    outcome: list[dict] = []
    try:
        if _declares_export_failure(case, session):
            _export_traced(case, record, clock)
        module, inputs, expected = eager_stage(case, record, clock)
        with clock.stage("export", "export_error"):
            ep = _export(case, module, inputs)
        with clock.stage("decompose", "export_error"):
            if case.decompose:
                ep = ep.run_decompositions()
            record["aten_ops"] = graph_aten_ops(ep)
        mod = import_stage(ep, session, clock)
        if case.dynamic is not None:
            with clock.stage("symbolic", "import_error"):
                record["symbolic"] = symbolic_report(case, ep, mod)
                if record["symbolic"]["problems"]:
                    raise StageFailure("import_error", "symbolic", "; ".join(record["symbolic"]["problems"]))
        with clock.stage("compile", "compile_error"):
            executable = session.build(mod, record, case)
        if not session.spec.can_run:
            raise StageFailure("skip", "run", None, skip_reason="no-gpu")
        if case.dynamic is None and _ships(case, session):
            outcome.append(_shipped(case, session, record, progress, executable, module, inputs, expected, limit))
        else:
            with clock.stage("run", "run_error"):
                vm = session.relax.VirtualMachine(executable, session.device)
            if case.dynamic is None:
                one = _run_and_compare(case, session, vm, record, clock, module, inputs, expected)
                if one["status"] == "pass":
                    one["deploy"] = session.not_shipped(case)
                outcome.append(one)
            else:
                outcome.extend(_run_sizes(case, session, vm, record, clock))
    except StageFailure as failure:
        _fail(record, failure)
        outcome = per_size(case, record) if case.dynamic is not None and not outcome else [*outcome, record]
    return total_seconds(outcome)


def _declares_export_failure(case: Case, session: Session) -> bool:
    return case.tracing is not None and any(
        e.stage == "export" for e in expect.applicable(case, session.spec.name, None))


def _export_traced(case: Case, record: dict, clock: _Clock) -> None:
    """Export the case's tracing build (Case.tracing): a failure is the case's export_error with no
    reference built; an export that succeeds leaves the case to run in full, as any other."""
    with clock.stage("eager", "skip"):
        module, inputs = _build(case, case.tracing, record)
    with clock.stage("export", "export_error"):
        _export(case, module, inputs)


def _build(case: Case, program, record: dict) -> tuple:
    """`program`'s module and inputs, built under the case's seed; their shapes into the record."""
    seed_everything(case.seed)
    module, inputs = program.build()
    record["input_shapes"], record["input_dtypes"] = _shapes(inputs)
    return module, inputs


def _export(case: Case, module, inputs):
    return torch.export.export(module, copy.deepcopy(inputs), dynamic_shapes=export_dynamic_shapes(case, inputs))


def total_seconds(records: list[dict]) -> list[dict]:
    """The records, each with the sum of its stage times as `seconds.total`."""
    for one in records:
        one["seconds"]["total"] = round(sum(v for k, v in one["seconds"].items() if k != "total"), 6)
    return records


def eager_stage(case: Case, record: dict, clock: _Clock) -> tuple:
    """The case's module, inputs and eager outputs (the reference), built under its seed."""
    with clock.stage("eager", "skip"):
        module, inputs = _build(case, case.program, record)
        expected = _eager(module, inputs)
        if case.nondeterministic and not _same(expected, _eager(module, inputs)):
            raise StageFailure("skip", "eager", "nondeterministic-reference: two eager runs differ")
    return module, inputs, expected


def import_stage(ep, session: Session, clock: _Clock):
    """from_exported_program; a missing converter is `import_unsupported`, naming the ops."""
    with clock.stage("import", "import_error"):
        try:
            return _import(ep, session.convert_map)
        except AssertionError as exc:
            missing = unsupported_ops(str(exc))
            if missing is None:
                raise
            raise StageFailure("import_unsupported", "import", one_line_error(exc),
                               unsupported_ops=missing) from exc


def _fail(record: dict, failure: StageFailure) -> None:
    extra = dict(failure.extra)
    extra.pop("exc", None)
    record.update(status=failure.status, stage=failure.stage, error=failure.error, **extra)
    if failure.status == "skip":
        record["skip_reason"] = extra.get("skip_reason") or failure.error
        record["error"] = failure.error
    # A wrong output is known by what differs, not by its numbers.
    what = facet_signature(record["facets"]) if record.get("facets") else failure.error
    record["error_signature"] = error_signature(failure.stage, what)


def _vm_call(session, vm, inputs) -> list:
    return tvm_outputs(vm["main"](*device_inputs(tensor_leaves(inputs), session.device)))


def _ships(case, session) -> bool:
    return session.deploy is not None and deploy.selected(case, session.deploy.fraction, session.spec.name)


def _shipped(case, session, record, progress, executable, module, inputs, expected, limit) -> dict:
    """A case chosen to ship (harness.deploy) is run by the fresh process only, so a model runs
    once, not twice. Only when that fails is the program run here too, and the verdict is the one
    this process gives (run_error, mismatch; a crash or a hang ends the worker as it always did),
    or deploy_error when the program passes here and the shipped library does not."""
    plan, name = session.deploy, safe_name(case.case_id)
    shipped = copy.deepcopy(record)
    clock = _Clock(shipped, progress)
    try:
        with clock.stage("deploy", "deploy_error"):
            actual = deploy.ship(executable, tensor_leaves(inputs), name, plan, session.spec.name, shipped,
                                 limit=deploy.loader_limit(limit if limit is not None else case.timeout or 0.0))
        compare_stage(case, session, shipped, clock, module, inputs, expected, actual)
    except StageFailure as failure:
        return _shipped_failed(case, session, record, progress, executable, module, inputs, expected,
                               shipped, failure)
    deploy.clean(plan, name, shipped)
    return shipped


def _shipped_failed(case, session, record, progress, executable, module, inputs, expected, shipped,
                    failure: StageFailure) -> dict:
    """The run here decides what a failed shipped case is (see _shipped)."""
    one = copy.deepcopy(record)
    clock = _Clock(one, progress)
    try:
        with clock.stage("run", "run_error"):
            vm = session.relax.VirtualMachine(executable, session.device)
    except StageFailure as own:
        _fail(one, own)
    else:
        one = _run_and_compare(case, session, vm, one, clock, module, inputs, expected)
    # The time spent shipping is the case's too, whatever its verdict.
    one["seconds"]["deploy"] = shipped["seconds"]["deploy"]
    one["peak_rss_mb"]["deploy"] = shipped["peak_rss_mb"]["deploy"]
    if one["status"] != "pass":
        deploy.clean(session.deploy, safe_name(case.case_id), shipped)
        return one
    one["deploy"] = shipped["deploy"]
    if failure.status == "mismatch":
        for key in ("max_abs_err", "max_rel_err", "rel_l2_err", "cosine", "judged_by", "facets"):
            one[key] = shipped.get(key)
        failure = StageFailure("deploy_error", "deploy", f"the deployed library's outputs differ: {failure.error}")
    _fail(one, failure)
    return one


def _run_and_compare(case, session, vm, record, clock, module, inputs, expected) -> dict:
    record = copy.deepcopy(record)
    clock.record = record
    try:
        with clock.stage("run", "run_error"):
            actual = _vm_call(session, vm, inputs)
        compare_stage(case, session, record, clock, module, inputs, expected, actual)
    except StageFailure as failure:
        _fail(record, failure)
    return record


def compare_stage(case, session, record, clock, module, inputs, expected, actual) -> None:
    """Judge TVM's outputs; a pass sets the status, a wrong output raises the mismatch."""
    with clock.stage("compare", "mismatch"):
        result = judge(case, expected, actual, module, inputs)
        for key in ("max_abs_err", "max_rel_err", "rel_l2_err", "cosine", "rtol", "atol", "degenerate",
                    "judged_by", "facets"):
            record[key] = result.get(key)
        # On a pass too: a model that gives what TVM gave (eager's answer) says its bug cannot show
        # on this draw, and harness.expect does not call the pass stale.
        checks = model_checks(case, session.spec.name, record.get("sizes"), module, inputs, actual, session.frontend)
        if not result["ok"] or checks:
            record["model_checks"] = checks
        if not result["ok"]:
            raise StageFailure("mismatch", "compare", result["message"])
    record["status"] = "pass"


def judging(case: Case) -> dict:
    """compare_outputs' tolerance arguments for a case: its row's override, or the defaults with
    the case's dtype judged against float64 too (Tolerance.float64_reference)."""
    if case.tolerance is None:
        return {"tol": None}
    if case.tolerance.float64_reference:
        return {"tol": None, "fp64_dtypes": (*HALF_DTYPES, case.dtype)}
    return {"tol": (case.tolerance.rtol, case.tolerance.atol)}


def judge(case: Case, expected: list, actual: list, module, inputs) -> dict:
    """The comparison of TVM's outputs with `expected`: facet by facet, or, for a case with a
    property check (random ops), the structure facets and then the property."""
    if case.check is None:
        return compare_outputs(expected, actual, **judging(case),
                               reference=lambda: float64_run(_call, module, inputs, case.seed))
    facets = compare_structure(expected, actual)
    if not facets:
        message = case.check(expected, actual, inputs)
        if message is not None:
            facets = [{"output": None, "facet": "property", "expected": "the property holds", "got": message}]
    return {"ok": not facets, "facets": facets, "judged_by": "property",
            "message": "; ".join(describe(f) for f in facets) or None}


def _predicted(found) -> tuple[list, list]:
    """A model's outputs and, per output, the mask of elements it cannot predict (or None)."""
    if isinstance(found, dict):
        outputs = flatten_outputs(found["outputs"])
        unknown = list(found.get("unknown") or [])
    else:
        outputs, unknown = flatten_outputs(found), []
    return outputs, unknown + [None] * (len(outputs) - len(unknown))


def _masked(actual: list, outputs: list, unknown: list) -> list:
    """TVM's outputs with the elements a model cannot predict set to the model's own."""
    masked = list(actual)
    for i, mask in enumerate(unknown):
        if mask is None or i >= len(masked) or not isinstance(masked[i], torch.Tensor):
            continue
        if tuple(masked[i].shape) == tuple(mask.shape) == tuple(outputs[i].shape):
            masked[i] = masked[i].clone()
            masked[i][mask] = outputs[i].to(masked[i].dtype)[mask]
    return masked


def _predicted_elements(outputs: list, unknown: list) -> int:
    """How many output elements a model predicts: where it is 0, no other fault can show."""
    count = 0
    for output, mask in zip(outputs, unknown, strict=True):
        if isinstance(output, torch.Tensor):
            count += output.numel() - (int(mask.sum()) if mask is not None else 0)
        else:
            count += 1
    return count


def model_checks(case: Case, target: str, size, module, inputs, actual: list, frontend: str = "export") -> dict:
    """Per applicable expectation with a model of the bug: whether TVM's outputs are the model's."""
    checks = {}
    for expectation in expect.applicable(case, target, size, frontend):
        if expectation.model is None:
            continue
        try:
            seed_everything(case.seed)
            with torch.no_grad():
                outputs, unknown = _predicted(expectation.model(copy.deepcopy(module), copy.deepcopy(inputs)))
            result = compare_outputs(
                outputs, _masked(actual, outputs, unknown), **judging(case),
                reference=lambda e=expectation: float64_run(lambda m, i: _predicted(e.model(m, i))[0], module,
                                                            inputs, case.seed))
            checks[expectation.key] = {"ok": result["ok"], "message": result["message"],
                                       "compared": _predicted_elements(outputs, unknown)}
        except Exception as exc:  # noqa: BLE001 - a model that cannot run predicts nothing
            checks[expectation.key] = {"ok": False, "message": f"the model failed: {one_line_error(exc)}"}
    return checks


def _run_sizes(case, session, vm, record, clock) -> list[dict]:
    records = []
    for size in case.dynamic.sizes:
        one = copy.deepcopy(record)
        one.update(case_id=size_case_id(case, size), dynamic_case=case.case_id, sizes=dict(size))
        clock.record = one
        try:
            with clock.stage("eager", "skip"):
                seed_everything(case.seed)
                module, inputs = case.program.build(**size)
                one["input_shapes"], one["input_dtypes"] = _shapes(inputs)
                expected = _eager(module, inputs)
        except StageFailure as failure:
            _fail(one, failure)
            records.append(one)
            continue
        records.append(_run_and_compare(case, session, vm, one, clock, module, inputs, expected))
    for size in case.dynamic.probes:
        records.append(_probe(case, session, vm, record, clock, size))
    return records


def _probe(case, session, vm, record, clock, size) -> dict:
    """Run at a size outside the declared constraints and record what TVM does.

    Outcomes: `rejected` (TVM raised), `silent-correct` (it ran and agrees with eager),
    `silent-wrong` (it ran and disagrees, or it ran inputs that eager itself refuses).
    """
    one = copy.deepcopy(record)
    one.update(case_id=size_case_id(case, size, probe=True), dynamic_case=case.case_id,
               sizes=dict(size))
    clock.record = one
    seed_everything(case.seed)
    inputs = expected = eager_error = None
    one["input_shapes"] = one["input_dtypes"] = []
    try:
        module, inputs = case.program.build(**size)
        one["input_shapes"], one["input_dtypes"] = _shapes(inputs)
        expected = _eager(module, inputs)
    except Exception as exc:  # noqa: BLE001 - broken relations may be invalid for eager too
        eager_error = one_line_error(exc)
    broken = case.dynamic.violations(one["input_shapes"])
    if expected is not None:
        result = _run_and_compare(case, session, vm, one, clock, module, inputs, expected)
        outcome = {"pass": "silent-correct", "mismatch": "silent-wrong"}.get(result["status"], "rejected")
    elif inputs is None:  # the factory cannot build such inputs: nothing reached TVM
        result, outcome = one, "not-run"
        result.update(error=eager_error)
    else:
        result = one
        try:
            with clock.stage("run", "run_error"):
                _vm_call(session, vm, inputs)
            outcome, result["error"] = "silent-wrong", f"TVM ran inputs eager refuses ({eager_error})"
        except StageFailure as failure:
            outcome = "rejected"
            _fail(result, failure)
    result.update(probe={"broken": broken, "outcome": outcome, "error": result["error"],
                         "eager_error": eager_error},
                  status="skip", skip_reason=f"constraint-probe: {outcome}")
    return result

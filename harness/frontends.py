"""The two other roads into TVM (`--frontend fx|dynamo`); `export` is harness.stages.

    fx:     eager -> trace (torch.fx.symbolic_trace) -> import (from_fx) -> compile -> run -> compare
    dynamo: eager -> dynamo (torch.compile with TVM's backend: import, compile and run happen
            inside it, each timed and classified apart) -> compare

Both judge outputs exactly as the export road does (stages.compare_stage). The convert map
reaches TVM's FX table (TorchFXImporter.create_convert_map), whose keys are a called function's
`__name__` (`sin` for torch.sin, which an op case calls on these roads when it can: user_call;
`sin.default` for the aten overload a case calls otherwise) or a module type; a converter is called as `fn(node, importer)`, as on the export road, and None
removes the table's own. Patching the table (not passing from_fx's custom_convert_map) is what
lets the map reach TVM's dynamo backend too, which calls from_fx itself.

Dynamo proves that TVM computed the result: the backend handed to torch.compile is torch's
registered "tvm" backend (relax_dynamo) wrapped in a counter of graphs received, graphs
compiled and calls of the compiled graphs. A graph break, no graph reaching TVM, or TVM's
compiled code never being called (eager ran instead) is `import_error` at stage `dynamo`,
never a pass. An error of dynamo's own capture (not the backend's) is `export_error` at stage
`dynamo`: like a failed torch.export, it is not TVM's fault.

Dynamic-shape programs run through export only: here they are `skip`.
"""

from __future__ import annotations

import contextlib
import copy
import time

import torch

from harness.case import FRONTENDS  # noqa: F401 - part of this module's API
from harness.compare import dtype_name
from harness.programs import OpModule, public_op_module
from harness.signature import one_line_error, unsupported_ops
from harness.stages import (
    StageFailure,
    _Clock,
    _fail,
    _run_and_compare,
    compare_stage,
    eager_stage,
    flatten_outputs,
    op_name,
    tensor_leaves,
    total_seconds,
)


class FlatModule(torch.nn.Module):
    """Takes a case's tensors as separate positional arguments (one fx placeholder each, in the
    order the VM is called with) and calls the case's module with its non-tensor arguments as
    constants: symbolic_trace makes a single placeholder of a `*inputs` signature."""

    def __init__(self, module: torch.nn.Module, inputs):
        super().__init__()
        self.inner = module
        leaves, self.spec = torch.utils._pytree.tree_flatten(inputs)
        self.tensor_at = [isinstance(x, torch.Tensor) for x in leaves]
        self.constants = [None if t else x for x, t in zip(leaves, self.tensor_at, strict=True)]
        names = [f"in{i}" for i in range(sum(self.tensor_at))]
        # A generated signature on a class of its own: fx reads the placeholders from the code
        # object of the class's forward.
        namespace: dict = {}
        exec(f"def forward(self, {', '.join(names)}):\n    return self._call([{', '.join(names)}])\n",
             namespace)
        self.__class__ = type("FlatModule", (FlatModule,), {"forward": namespace["forward"]})

    def _call(self, tensors):
        given = iter(tensors)
        leaves = [next(given) if t else c for t, c in zip(self.tensor_at, self.constants, strict=True)]
        return self.inner(*torch.utils._pytree.tree_unflatten(leaves, self.spec))


def graph_ops(gm: torch.fx.GraphModule) -> list[str]:
    """The ops of a traced graph the coverage matrix knows by name (aten overloads, operators)."""
    found = set()
    for module in gm.modules():
        if isinstance(module, torch.fx.GraphModule):
            found.update(name for node in module.graph.nodes
                         if node.op == "call_function" and (name := op_name(node.target)) is not None)
    return sorted(found)


@contextlib.contextmanager
def fx_convert_map(convert_map: dict | None):
    """TVM's FX table with the convert map's converters added (None: removed) for the duration."""
    if not convert_map:
        yield
        return
    from tvm.relax.frontend.torch.fx_translator import TorchFXImporter

    original = TorchFXImporter.create_convert_map

    def patched(self):
        table = original(self)
        for key, fn in convert_map.items():
            if fn is None:
                table.pop(key, None)
            else:
                # The table's own converters take the node only; a custom one also the importer.
                table[key] = lambda node, fn=fn, importer=self: fn(node, importer)
        return table

    TorchFXImporter.create_convert_map = patched
    try:
        yield
    finally:
        TorchFXImporter.create_convert_map = original


def user_call(module: torch.nn.Module, inputs) -> tuple[torch.nn.Module, str]:
    """The module this road runs and what it calls (the record's `call`). TVM's FX table is keyed
    by what users call (torch.sin, Tensor.add_, F.relu), so an op case calls the op's public
    function when in eager it does exactly what the aten overload does; otherwise it stays `aten`
    (a failure then says nothing about the FX converters). An OpInfo sample already calls its
    public function; any other module is the user's own code."""
    if type(module) is OpModule:
        public = public_op_module(module, inputs)
        return (public, public.call) if public is not None else (module, "aten")
    op = getattr(module, "op", None)
    if type(module).__name__ == "OpInfoModule" and callable(op):
        return module, f"{getattr(op, '__module__', None) or 'torch'}.{getattr(op, '__name__', repr(op))}"
    return module, "module"


def _import_failure(exc: Exception) -> StageFailure:
    missing = unsupported_ops(str(exc)) if isinstance(exc, AssertionError) else None
    if missing is not None:
        return StageFailure("import_unsupported", "import", one_line_error(exc), unsupported_ops=missing)
    return StageFailure("import_error", "import", one_line_error(exc))


def run_case(case, session, base: dict, progress) -> list[dict]:
    """Run one case through `session.frontend` (fx or dynamo); returns its record."""
    record = copy.deepcopy(base)
    record["call"] = None  # until the case's module is built
    clock = _Clock(record, progress)
    try:
        if case.dynamic is not None:
            raise StageFailure("skip", "eager", f"frontend-{session.frontend}: dynamic programs run through export only")
        module, inputs, expected = eager_stage(case, record, clock)
        module, record["call"] = user_call(module, inputs)
        road = _fx if session.frontend == "fx" else _dynamo
        record = road(case, session, record, clock, module, inputs, expected)
    except StageFailure as failure:
        _fail(record, failure)
    return total_seconds([record])


def _fx(case, session, record, clock, module, inputs, expected) -> dict:
    from tvm.relax.frontend.torch import from_fx

    with clock.stage("trace", "import_error"):
        gm = torch.fx.symbolic_trace(FlatModule(module, copy.deepcopy(inputs)))
        record["aten_ops"] = graph_ops(gm)
    with clock.stage("import", "import_error"):
        info = [(tuple(t.shape), dtype_name(t.dtype)) for t in tensor_leaves(inputs)]
        try:
            with fx_convert_map(session.convert_map):
                mod = from_fx(gm, info)
        except Exception as exc:  # noqa: BLE001 - classified: a missing converter or another import error
            raise _import_failure(exc) from exc
    with clock.stage("compile", "compile_error"):
        executable = session.build(mod, record)
    with clock.stage("run", "run_error"):
        vm = session.relax.VirtualMachine(executable, session.device)
    return _run_and_compare(case, session, vm, record, clock, module, inputs, expected)


class DynamoProbe:
    """torch's "tvm" backend behind counters, and where inside TVM a failure happened."""

    def __init__(self):
        self.graphs = self.compiled = self.calls = 0
        self.ops: set[str] = set()
        self.failed: tuple[str, Exception] | None = None  # (stage, exception) inside TVM
        self.seconds = {"import": 0.0, "compile": 0.0, "run": 0.0}
        self._reached: str | None = None  # the last TVM stage a graph entered

    def _timed(self, stage: str, fn):
        def call(*args, **kwargs):
            self._reached = stage
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                self.failed = self.failed or (stage, exc)
                raise
            finally:
                self.seconds[stage] += time.perf_counter() - start
        return call

    def backend(self, gm, example_inputs):
        from tvm.relax.frontend.torch import dynamo as tvm_dynamo

        self.graphs += 1
        self.ops.update(graph_ops(gm))
        self._reached = None
        tvm_backend = torch._dynamo.lookup_backend("tvm")
        # relax_dynamo imports (from_fx) and builds (relax_build) through its module's names:
        # wrapping them tells an import failure from a compile failure, and times each.
        saved = tvm_dynamo.from_fx, tvm_dynamo.relax_build
        tvm_dynamo.from_fx = self._timed("import", saved[0])
        tvm_dynamo.relax_build = self._timed("compile", saved[1])
        try:
            compiled = tvm_backend(gm, example_inputs)
        except Exception as exc:
            if self.failed is None:
                # Before from_fx: the backend refused the graph's inputs, an import failure;
                # after it: the pipeline or the VM's creation, part of compiling.
                self.failed = ("import" if self._reached is None else "compile", exc)
            raise
        finally:
            tvm_dynamo.from_fx, tvm_dynamo.relax_build = saved
        self.compiled += 1
        run = self._timed("run", compiled)

        def counted(*args):
            self.calls += 1
            return run(*args)
        return counted


def _dynamo_failure(probe: DynamoProbe, exc: Exception) -> StageFailure:
    if probe.failed is None:
        return StageFailure("export_error", "dynamo", one_line_error(exc))
    stage, inner = probe.failed
    if stage == "import":
        return _import_failure(inner)
    return StageFailure(f"{stage}_error", stage, one_line_error(inner))


def _graph_breaks() -> list[str]:
    from torch._dynamo.utils import counters

    return sorted(counters["graph_break"])


def not_from_tvm(probe: DynamoProbe, breaks: list[str]) -> str | None:
    """Why dynamo's result is not TVM's (the error of an `import_error` at stage `dynamo`), or None.
    Standalone on purpose: the road's repro script embeds it (harness.road_repro)."""
    if breaks:
        return f"GraphBreak: {breaks[0].splitlines()[0]}" + (f" (and {len(breaks) - 1} more)" if len(breaks) > 1 else "")
    if not probe.graphs:
        return "NoGraph: no graph reached TVM (eager ran the module)"
    if not probe.calls:
        return "EagerFallback: TVM's compiled graph was never called"
    return None


def _dynamo(case, session, record, clock, module, inputs, expected) -> dict:
    from torch._dynamo.utils import counters

    torch._dynamo.reset()  # no graph or guard of an earlier case is reused
    counters.clear()
    probe = DynamoProbe()
    start = time.perf_counter()
    try:
        with clock.stage("dynamo", "export_error"):
            try:
                compiled = torch.compile(copy.deepcopy(module), backend=probe.backend, dynamic=False)
                with torch.no_grad(), fx_convert_map(session.convert_map):
                    actual = flatten_outputs(compiled(*copy.deepcopy(inputs)))
            except Exception as exc:  # noqa: BLE001 - classified by where it happened
                raise _dynamo_failure(probe, exc) from exc
            if probe.failed is not None:  # dynamo swallowed TVM's error (suppress_errors) and ran eager
                raise _dynamo_failure(probe, probe.failed[1])
            why = not_from_tvm(probe, _graph_breaks())
            if why is not None:
                raise StageFailure("import_error", "dynamo", why)
    finally:
        record["dynamo"] = {"graphs": probe.graphs, "compiled": probe.compiled, "tvm_calls": probe.calls,
                            "graph_breaks": [b.splitlines()[0] for b in _graph_breaks()]}
        record["aten_ops"] = sorted(probe.ops)
        # Time spent inside TVM is its stages' own, not dynamo's.
        inside = {k: round(v, 6) for k, v in probe.seconds.items() if v}
        record["seconds"].update(inside)
        record["seconds"]["dynamo"] = round(max(0.0, time.perf_counter() - start - sum(inside.values())), 6)
    compare_stage(case, session, record, clock, module, inputs, expected, actual)
    return record

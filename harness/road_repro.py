"""The fx and dynamo roads' parts of a repro script (harness.repro writes the rest, as for export).

A road's script rebuilds the case as the export road's does (factory, arguments, eager), then
follows the record's road exactly as harness.frontends runs it:

    fx:     the module the record `call`s -> torch.fx.symbolic_trace(FlatModule(...)) ->
            from_fx(gm, [(shape, dtype), ...]) -> tvm.compile -> the Relax VM -> the comparison
    dynamo: the module the record `call`s -> torch.compile(module, backend=torch's "tvm" backend
            behind DynamoProbe's counters) -> the comparison; a graph break, no graph reaching
            TVM or TVM's graph never called is `import_error` (never a pass), a failure inside
            the backend gets the status of the TVM stage it happened in

The code that decides (FlatModule, fx_convert_map, DynamoProbe, not_from_tvm) is embedded
verbatim from harness.frontends, so the script cannot drift from the road it reproduces.
`--convert-map` reaches TVM's FX table through fx_convert_map, as in the harness.
"""

from __future__ import annotations

import inspect

from harness import frontends, stages

ROADS = ("fx", "dynamo")

# What the harness's steps need beyond the export road's script: embedded in this order.
_EMBEDDED = {
    "fx": (frontends.FlatModule, frontends.fx_convert_map),
    "dynamo": (stages.op_name, frontends.graph_ops, frontends.fx_convert_map, frontends.DynamoProbe,
               frontends._graph_breaks, frontends.not_from_tvm),
}

_DOC = {
    "fx": """Runs eager, torch.fx.symbolic_trace,
from_fx, tvm.compile, the Relax VM and the comparison (the fx road of harness.frontends);""",
    "dynamo": """Runs eager, then torch.compile with
torch's "tvm" backend behind counters (a graph break, no graph reaching TVM or eager running
instead of TVM's graph is import_error, never a pass), then the comparison (the dynamo road);""",
}

# Each road's importer, as the full and the short repro import it.
IMPORT = {"export": "from tvm.relax.frontend.torch import from_exported_program",
          "fx": "from tvm.relax.frontend.torch import from_fx", "dynamo": "import torch._dynamo"}

_DEFINITIONS = '''# The module this road runs: an op case calls the op's public function (torch.sin, Tensor.add_)
# where the harness found it does in eager what the overload does (the record's `call`).
CALL = {call!r}


def road_module(module, inputs):
    if CALL in (None, "aten", "module") or type(module).__name__ != "OpModule":
        return module
    public = public_op_module(module, inputs)
    if public is None or public.call != CALL:
        finish("skip", f"the harness called {{CALL}}; here eager chose {{public.call if public else 'the overload'}}")
    return public


def convert_table():
    """The convert map's dict for TVM's FX table (a None value removes the table's own converter)."""
    if not CONVERT_MAP:
        return None
    import importlib
    module, attr = CONVERT_MAP.split(":")
    return getattr(importlib.import_module(module), attr)'''

_DYNAMO_FAILED = '''

def dynamo_failed(probe, exc):
    """A failure inside torch.compile: the status of the TVM stage it happened in, else dynamo's own."""
    if probe.failed is None:
        finish("export_error", f"dynamo failed: {type(exc).__name__}: {exc}")
    stage_name, inner = probe.failed
    unsupported = stage_name == "import" and isinstance(inner, AssertionError) and (
        "Unsupported function type" in str(inner))
    finish("import_unsupported" if unsupported else f"{stage_name}_error",
           f"{stage_name} failed: {type(inner).__name__}: {inner}")'''

_FX_FRONT = '''    module = road_module(module, inputs)
    table = convert_table()
    gm = stage("trace", "import_error", lambda: torch.fx.symbolic_trace(FlatModule(module, copy.deepcopy(inputs))))
    info = [(tuple(t.shape), dtype_name(t.dtype)) for t in flat(inputs) if isinstance(t, torch.Tensor)]

    def do_import():
        try:
            with fx_convert_map(table):
                return from_fx(gm, info)
        except AssertionError as exc:
            if "Unsupported function type" in str(exc):
                finish("import_unsupported", str(exc))
            raise
    mod = stage("import", "import_error", do_import)'''

_DYNAMO_STEPS = '''    module = road_module(module, inputs)
    table = convert_table()
    from torch._dynamo.utils import counters

    torch._dynamo.reset()
    counters.clear()
    probe = DynamoProbe()
    try:
        compiled = torch.compile(copy.deepcopy(module), backend=probe.backend, dynamic=False)
        with torch.no_grad(), fx_convert_map(table):
            actual = flat(compiled(*copy.deepcopy(inputs)))
    except Exception as exc:  # where it happened is the verdict
        dynamo_failed(probe, exc)
    if probe.failed is not None:  # dynamo swallowed TVM's error (suppress_errors) and ran eager
        dynamo_failed(probe, probe.failed[1])
    breaks = _graph_breaks()
    print(f"dynamo: {probe.graphs} graph(s) reached TVM, {probe.compiled} compiled, "
          f"{probe.calls} call(s) of TVM's compiled code, {len(breaks)} graph break(s)")
    why = not_from_tvm(probe, breaks)
    if why is not None:
        finish("import_error", why)'''


def full_parts(record: dict) -> dict:
    """The template's road-specific fields for the record's road; `builds`: whether the script
    then compiles and runs the imported module itself (fx), as the export road's does."""
    road = record["frontend"]
    if road not in ROADS:
        raise ValueError(f"no repro parts for the frontend {road!r}")
    sources = "\n\n".join(inspect.getsource(item) for item in _EMBEDDED[road])
    tail = ("# ---------------------------------------------------------------- the road\n"
            "# (verbatim from modules harness.frontends and harness.stages)\n"
            "import contextlib  # fx_convert_map's\n"
            + ("import time  # DynamoProbe's\n" if road == "dynamo" else "")
            + "\n\n" + sources + (_DYNAMO_FAILED if road == "dynamo" else "") + "\n")
    return {"road_label": f" through {road}", "road_doc": _DOC[road], "road_import": IMPORT[road],
            "road_definitions": _DEFINITIONS.format(call=record.get("call")),
            "front": _FX_FRONT if road == "fx" else _DYNAMO_STEPS, "builds": road == "fx",
            "tail_source": tail}


# ---------------------------------------------------------------- the short form
# Through dynamo the short form tells a failure only as far as its counters can: dynamo's own,
# inside TVM's backend (import_error), a graph break or eager instead of TVM (import_error), or a
# wrong result. Where inside the backend TVM failed is the full repro's probe's to say.
_DYNAMO_UNTOLD = ("compile_error", "run_error")

_SHORT_DYNAMO = '''graphs = calls = 0


def tvm_backend(gm, example_inputs):  # torch's "tvm" backend, counted: only TVM's result may pass
    global graphs, status
    graphs, status = graphs + 1, "import_error"  # a failure from here on is TVM's
    compiled = torch._dynamo.lookup_backend("tvm")(gm, example_inputs)
    status = "export_error"

    def counted(*args):
        global calls
        calls += 1
        return compiled(*args)
    return counted'''


def check_short(record: dict, recorded: bool) -> None:
    """Raises Unwritable where the short form cannot tell this road's record apart (`recorded`: the
    program is spelled from the torch calls its forward makes, not by its factory)."""
    from harness.literals import Unwritable

    road, raw = record.get("frontend"), record.get("raw_status") or record["status"]
    if road == "dynamo" and raw in _DYNAMO_UNTOLD:
        raise Unwritable("a failure inside TVM's dynamo backend: only the full repro's probe tells its stage")
    if road == "dynamo" and record.get("stage") == "dynamo" and recorded:
        # What breaks a graph (torch._dynamo.graph_break(), Python on a tensor's value) is Python
        # between the calls, which recording the calls leaves out.
        raise Unwritable("dynamo did not hand TVM the whole program: the recorded calls leave out what broke it")


def short_module(module, inputs, record: dict):
    """The module the road ran for this record (an op case's public call), for the short form to
    spell; raises Unwritable where eager here chooses another call than the harness did."""
    from harness.literals import Unwritable

    chosen, call = frontends.user_call(module, inputs)
    if call != record.get("call"):
        raise Unwritable(f"the harness called {record.get('call')}, here {call} was chosen")
    return chosen


def short_steps(road: str, each: str, fresh: str) -> tuple[list[str], list[str], str]:
    """For the short form: the road's steps from eager's result to TVM's (fx: up to the import,
    the export road's compile and run follow; dynamo: all of them), the definitions they need,
    and the importer's import line."""
    if road == "fx":
        return (["    status = \"import_error\"; gm = torch.fx.symbolic_trace(model)",
                 f"    mod = from_fx(gm, [(tuple(t.shape), str(t.dtype).removeprefix(\"torch.\")) for t in {each}])"],
                [], IMPORT["fx"])
    steps = ["    status = \"export_error\"; torch._dynamo.reset()  # dynamo's own capture, until a graph reaches TVM",
             f"    with torch.no_grad(): actual = leaves(torch.compile(model, backend=tvm_backend, dynamic=False)(*{fresh}))"]
    return steps, [_SHORT_DYNAMO], IMPORT["dynamo"]


SHORT_DYNAMO_VERDICT = [
    "breaks = torch._dynamo.utils.counters[\"graph_break\"]",
    "if breaks or not graphs or not calls:  # a graph break, no graph, or eager ran instead: not TVM's result",
    "    print(f\"graph breaks: {sorted(breaks)}; graphs to TVM: {graphs}; calls of TVM's code: {calls}\")",
    "    sys.exit(print(\"status: import_error\") or 1)"]

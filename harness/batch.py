"""Many op cases in one program, each still judged alone.

A batch is one module whose forward calls each member's own module on its own inputs and
returns all their outputs: one export, one decomposition, one import, one compile and one VM
call stand for the members' own, which cost nearly the same fixed time each whatever the op
(see harness.bench). Each member keeps its eager reference, tolerance, comparison and bug-model
checks, so a member's record is the one it gets alone:

- the members' programs share no value, so TVM compiles each one as it would alone (nothing
  fuses across them) and the outputs come back in the members' order;
- the graph's ops are split by the module each node was traced in (`nn_module_stack`), giving
  each member the `aten_ops` its own export has;
- when a shared stage fails (export, decomposition, import, compile, run), or the outputs or
  ops cannot be split exactly, nothing is credited from the batch: every member not yet judged
  runs alone, here, one after the other. A crash or a hang kills the worker; the pool then runs
  every member not yet reported alone in fresh workers;
- but for one failure: the importer refuses a program whose graph holds an op it has no
  converter for before it converts anything, naming every such op (`Unsupported function types
  [...]`) by each node's name alone. A batch refused that way tells each member what it is told
  alone, its own nodes' names among those refused: a member with one is given that record from
  the batch, one without runs alone.

Two kinds of cases take part (harness.batch.batch_kind), each in batches of its own: those
whose declared failures are wrong outputs, and those declared to lack a converter. A case
expected to fail otherwise at a shared stage, crash, hang or pass only sometimes runs alone.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable

import torch

from harness import expect
from harness.case import Case
from harness.signature import one_line_error, unsupported_names, unsupported_ops
from harness.stages import (
    Session,
    StageFailure,
    _Clock,
    _fail,
    compare_stage,
    eager_stage,
    import_stage,
    op_name,
    run_case,
    tensor_leaves,
    total_seconds,
)
from harness.transfer import device_inputs, tvm_outputs

# Stages whose work a batch shares: a member's record holds its share of the batch's time.
SHARED = ("export", "decompose", "import", "compile", "run")
_MEMBER = re.compile(r"^members\.(\d+)$")


def batch_kind(case: Case, target: str) -> str | None:
    """Which batches a case may join (None: it runs alone). A static op case joins `outputs`
    when every declared failure on this target is a wrong output (judged per member) that shows
    on every run, `unsupported` when it is declared only to lack a converter (each member is
    told its own missing ops). The kinds never mix: one member refused at import would send
    every member expected to run back to run alone."""
    if case.kind != "op" or case.dynamic is not None or case.timeout is not None:
        return None
    declared = list(expect.applicable(case, target, None))
    if all(e.stage == "compare" and e.status == "mismatch" and not e.flaky for e in declared):
        return "outputs"
    if all(e.stage == "import" and e.status == "import_unsupported" and not e.flaky for e in declared):
        return "unsupported"
    return None


class _Unsplittable(Exception):
    """The batch ran, but its outputs or ops cannot be given to members exactly."""


class BatchModule(torch.nn.Module):
    """Calls each member on its own inputs; takes every member's tensors, in order, as arguments.

    A member's non-tensor arguments are constants, as they are when its own module is exported.
    """

    def __init__(self, members: list[tuple[torch.nn.Module, tuple]]):
        super().__init__()
        self.members = torch.nn.ModuleList(module for module, _ in members)
        self.layouts = []
        for _, inputs in members:
            leaves, spec = torch.utils._pytree.tree_flatten(inputs)
            tensor_at = [isinstance(x, torch.Tensor) for x in leaves]
            constants = [None if t else x for x, t in zip(leaves, tensor_at, strict=True)]
            self.layouts.append((spec, tensor_at, constants))

    def forward(self, *tensors):
        outputs, taken = [], 0
        for module, (spec, tensor_at, constants) in zip(self.members, self.layouts, strict=True):
            leaves = []
            for is_tensor, constant in zip(tensor_at, constants, strict=True):
                leaves.append(tensors[taken] if is_tensor else constant)
                taken += is_tensor
            outputs.append(module(*torch.utils._pytree.tree_unflatten(leaves, spec)))
        return tuple(outputs)


def _owner(node) -> int | None:
    """The member a graph node was traced in (its outermost `members.N` module), or None."""
    for path, _ in (node.meta.get("nn_module_stack") or {}).values():
        if m := _MEMBER.match(path):
            return int(m.group(1))
    return None


def member_ops(ep, size: int) -> list[list[str]]:
    """Each member's ops in the batch's decomposed graph, as its own graph_aten_ops gives them."""
    nested = [m for m in ep.graph_module.modules() if isinstance(m, torch.fx.GraphModule)]
    if len(nested) > 1:
        raise _Unsplittable("a subgraph (higher-order op) cannot be split by member")
    found: list[set[str]] = [set() for _ in range(size)]
    for node in ep.graph.nodes:
        if node.op != "call_function" or (name := op_name(node.target)) is None:
            continue
        owner = _owner(node)
        if owner is None:
            raise _Unsplittable(f"node {node.name} belongs to no member")
        found[owner].add(name)
    return [sorted(ops) for ops in found]


def split_outputs(raw, counts: list[int]) -> list[list]:
    """TVM's top-level outputs, one per output of the members' graphs, cut at member bounds."""
    entries = list(raw) if raw is not None else []
    if len(entries) != sum(counts):
        raise _Unsplittable(f"{len(entries)} outputs for members with {sum(counts)}")
    parts, start = [], 0
    for count in counts:
        parts.append(tvm_outputs(entries[start:start + count]))
        start += count
    return parts


def run_batch(members: list[tuple[Case, dict]], session: Session, batch_id: str,
              report: Callable[[int, list[dict]], None],
              progress: Callable[[str, dict], None] = lambda stage, record: None) -> None:
    """Run the members; `report(i, records)` is called once per member as its records are final."""
    live = []  # (index, case, record, module, inputs, expected)
    for index, (case, base) in enumerate(members):
        record = copy.deepcopy(base)
        try:
            module, inputs, expected = eager_stage(case, record, _Clock(record, progress))
        except StageFailure as failure:  # eager is each member's own: this is its record alone
            _fail(record, failure)
            report(index, total_seconds([record]))
            continue
        live.append((index, case, record, module, inputs, expected))
    if not live:
        return
    shared: dict = {"seconds": {}, "peak_rss_mb": {}, "stage": None}
    traced: list = []  # the batch's program and each member's ops, once decomposed
    try:
        actual = _shared_stages(live, session, shared, progress, traced)
    except (StageFailure, _Unsplittable) as failure:
        refused = _refused_by_member(failure, traced, len(live))
        for position, (index, case, record, _, _, _) in enumerate(live):
            if refused and refused[position]:
                _credit(record, batch_id, len(live), shared, traced[1][position])
                _fail(record, StageFailure("import_unsupported", "import", refused[position],
                                           unsupported_ops=unsupported_ops(refused[position])))
                report(index, total_seconds([record]))
            else:
                report(index, run_case(case, session, members[index][1], progress))
        return
    for (index, case, record, module, inputs, expected), outputs, aten_ops in zip(live, actual, traced[1],
                                                                                 strict=True):
        _credit(record, batch_id, len(live), shared, aten_ops)
        if "device_compile" in shared:
            record["device_compile"] = shared["device_compile"]
        clock = _Clock(record, progress)
        try:
            if not session.spec.can_run:
                record["stage"] = "run"
                raise StageFailure("skip", "run", None, skip_reason="no-gpu")
            compare_stage(case, session, record, clock, module, inputs, expected, outputs)
            # A case drawn for the deploy stage never joins a batch (harness.pool): this one was not.
            record["deploy"] = session.not_shipped(case)
        except StageFailure as failure:
            _fail(record, failure)
        report(index, total_seconds([record]))


def _credit(record: dict, batch_id: str, size: int, shared: dict, aten_ops: list[str]) -> None:
    """A member's record from the batch: its own ops, and its share of the shared stages' time."""
    record["aten_ops"] = aten_ops
    record["batch"] = {"id": batch_id, "size": size}
    for stage in SHARED:
        if stage in shared["seconds"]:
            record["seconds"][stage] = round(shared["seconds"][stage] / size, 6)
            record["peak_rss_mb"][stage] = shared["peak_rss_mb"].get(stage)


def _refused_by_member(failure: Exception, traced: list, size: int) -> list[str | None] | None:
    """For a batch the importer refused for missing converters, the error each member gets alone
    (None for a member none of whose nodes was refused); None when the failure is another."""
    if not isinstance(failure, StageFailure) or failure.status != "import_unsupported" or not traced:
        return None
    missing = unsupported_names(str(failure.__cause__))
    if missing is None:
        return None
    names: list[set[str]] = [set() for _ in range(size)]
    for node in traced[0].graph.nodes:
        # The importer's own test: a call_function node whose target's __name__ has no converter.
        if node.op != "call_function" or node.target.__name__ not in missing:
            continue
        owner = _owner(node)
        if owner is None:
            return None  # a refused node of no member: nobody's error can be told apart
        names[owner].add(node.target.__name__)
    return [one_line_error(AssertionError(f"Unsupported function types {sorted(n)}")) if n else None
            for n in names]


def _shared_stages(live, session: Session, shared: dict, progress, traced: list) -> list:
    """Export, decompose, import, compile and run the batch; each member's outputs. `traced`
    receives the decomposed program and each member's ops as soon as they exist."""
    clock = _Clock(shared, progress)
    batch = BatchModule([(module, inputs) for _, _, _, module, inputs, _ in live])
    every_input = tuple(inputs for _, _, _, _, inputs, _ in live)
    with clock.stage("export", "export_error"):
        ep = torch.export.export(batch, tuple(tensor_leaves(copy.deepcopy(every_input))))
    with clock.stage("decompose", "export_error"):
        if live[0][1].decompose:
            ep = ep.run_decompositions()
        traced.extend((ep, member_ops(ep, len(live))))
    mod = import_stage(ep, session, clock)
    with clock.stage("compile", "compile_error"):
        executable = session.build(mod, shared)
    if not session.spec.can_run:
        return [[] for _ in live]
    with clock.stage("run", "run_error"):
        vm = session.relax.VirtualMachine(executable, session.device)
        raw = vm["main"](*device_inputs(tensor_leaves(every_input), session.device))
        return split_outputs(raw, [len(expected) for *_, expected in live])

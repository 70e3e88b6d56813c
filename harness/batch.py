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
  every member not yet reported alone in fresh workers.

Only cases whose declared failures are wrong outputs take part (harness.batch.batchable):
a case expected to fail at a shared stage, crash, hang or pass only sometimes runs alone.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable

import torch

from harness import expect
from harness.case import Case
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


def batchable(case: Case, target: str) -> bool:
    """Whether a case may run inside a batch: a static op case whose every declared failure
    on this target is a wrong output (judged per member) that shows on every run."""
    if case.kind != "op" or case.dynamic is not None or case.timeout is not None:
        return False
    return all(e.stage == "compare" and e.status == "mismatch" and not e.flaky
               for e in expect.applicable(case, target, None))


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


def member_ops(ep, size: int) -> list[list[str]]:
    """Each member's ops in the batch's decomposed graph, as its own graph_aten_ops gives them."""
    nested = [m for m in ep.graph_module.modules() if isinstance(m, torch.fx.GraphModule)]
    if len(nested) > 1:
        raise _Unsplittable("a subgraph (higher-order op) cannot be split by member")
    found: list[set[str]] = [set() for _ in range(size)]
    for node in ep.graph.nodes:
        if node.op != "call_function" or (name := op_name(node.target)) is None:
            continue
        owners = [int(m.group(1)) for path, _ in (node.meta.get("nn_module_stack") or {}).values()
                  if (m := _MEMBER.match(path))]
        if not owners:
            raise _Unsplittable(f"node {node.name} belongs to no member")
        found[owners[0]].add(name)
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
    try:
        actual, ops = _shared_stages(live, session, shared, progress)
    except (StageFailure, _Unsplittable):
        for index, case, _, _, _, _ in live:
            report(index, run_case(case, session, members[index][1], progress))
        return
    for (index, case, record, module, inputs, expected), outputs, aten_ops in zip(live, actual, ops, strict=True):
        record["aten_ops"] = aten_ops
        record["batch"] = {"id": batch_id, "size": len(live)}
        for stage in SHARED:
            record["seconds"][stage] = round(shared["seconds"].get(stage, 0.0) / len(live), 6)
            record["peak_rss_mb"][stage] = shared["peak_rss_mb"].get(stage)
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


def _shared_stages(live, session: Session, shared: dict, progress) -> tuple[list, list]:
    """Export, decompose, import, compile and run the batch; each member's outputs and ops."""
    clock = _Clock(shared, progress)
    batch = BatchModule([(module, inputs) for _, _, _, module, inputs, _ in live])
    every_input = tuple(inputs for _, _, _, _, inputs, _ in live)
    with clock.stage("export", "export_error"):
        ep = torch.export.export(batch, tuple(tensor_leaves(copy.deepcopy(every_input))))
    with clock.stage("decompose", "export_error"):
        if live[0][1].decompose:
            ep = ep.run_decompositions()
        ops = member_ops(ep, len(live))
    mod = import_stage(ep, session, clock)
    with clock.stage("compile", "compile_error"):
        executable = session.build(mod, shared)
    if not session.spec.can_run:
        return [[] for _ in live], ops
    with clock.stage("run", "run_error"):
        vm = session.relax.VirtualMachine(executable, session.device)
        raw = vm["main"](*device_inputs(tensor_leaves(every_input), session.device))
        actual = split_outputs(raw, [len(expected) for *_, expected in live])
    return actual, ops

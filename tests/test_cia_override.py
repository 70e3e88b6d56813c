"""The worker's cheaper CompositeImplicitAutograd override decomposes exactly as torch's does.

Each program is decomposed with torch's override, then with the harness's (and, for the CIA-heavy
rows, with torch's again), in one process: the graphs (code, signature, every node's value) must
agree, and nothing the harness's override leaves behind may change what torch's gives next (the
state test compares what each leaves, op by op). Every quick row is checked in batches, the
programs the engine decomposes (harness.batch): one decomposition of a batch costs about what one
member's does alone.
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch

from harness import cia_override

ROOT = Path(__file__).resolve().parent.parent

# CIA-heavy rows: ops that stay whole through torch.export and are taken apart by the override.
CIA_HEAVY = ("aten.linear.default", "aten.layer_norm.default", "aten.dropout.default",
             "aten.scaled_dot_product_attention.default", "aten.upsample_bilinear2d.vec",
             "aten.upsample_nearest2d.vec", "aten.matmul.default", "aten.einsum.default",
             "aten.group_norm.default", "aten.pad.default")


@contextmanager
def fast(on: bool):
    """The harness's override in place (on) or torch's (off), as before afterwards."""
    was = cia_override.uninstall()
    if on:
        cia_override.install()
    try:
        yield
    finally:
        cia_override.uninstall()
        if was:
            cia_override.install()


def _value(v):
    if isinstance(v, torch.Tensor):
        return f"{tuple(v.shape)}:{v.dtype}:{tuple(v.stride())}"
    if isinstance(v, (list, tuple)):
        return [_value(x) for x in v]
    return str(v) if isinstance(v, (int, float, bool, torch.SymInt, type(None))) else type(v).__name__


def _unbacked_renumbered(parts: tuple) -> tuple:
    """The parts with unbacked symbols numbered by first appearance: every decomposition of one
    ExportedProgram draws new ones from its shape environment (u0, then u2, then u4 for
    take(x, scalar index)), so the same graph comes back with other names."""
    names: dict[str, str] = {}

    def rename(match):
        return names.setdefault(match.group(0), f"u{len(names)}")

    return tuple(re.sub(r"\bu\d+\b", rename, part) if isinstance(part, str) else
                 [(node, re.sub(r"\bu\d+\b", rename, str(value))) for node, value in part] for part in parts)


def decomposed(ep) -> tuple:
    """What a decomposition gives: the code, the signature and each node's value, or the error."""
    try:
        out = ep.run_decompositions()
    except Exception as err:  # noqa: BLE001 - an error must be the same error both ways
        return (f"{type(err).__name__}: {err}",)
    return _unbacked_renumbered((out.graph_module.code, str(out.graph_signature),
                                 [(node.name, _value(node.meta.get("val"))) for node in out.graph.nodes]))


def three_ways(ep, ways: int = 3) -> tuple:
    """torch's, the harness's and (with ways=3) torch's decomposition again, in that order."""
    with fast(False):
        first = decomposed(ep)
    with fast(True):
        mine = decomposed(ep)
    if ways == 2:
        return first, mine, first
    with fast(False):
        again = decomposed(ep)
    return first, mine, again


def row_program(row):
    """The row's first quick case, exported as the engine exports it (None if export fails)."""
    from opsuite.plan import cases

    return case_program(cases([row], "quick", 0)[0])


def case_program(case):
    """The case's id and its program exported as the engine exports it (None if export fails)."""
    from harness.stages import export_dynamic_shapes, seed_everything

    seed_everything(case.seed)
    module, inputs = case.program.build()
    try:
        return case.case_id, torch.export.export(module, inputs,
                                                 dynamic_shapes=export_dynamic_shapes(case, inputs))
    except Exception:  # noqa: BLE001 - a program torch cannot export has nothing to decompose
        return case.case_id, None


def batched_programs(cases, size: int) -> list:
    """The cases' programs, static ones `size` to a batch as the engine batches them: a batch
    that torch cannot export or decompose is replaced by its members alone, so that one member's
    failure does not hide the others."""
    from harness.batch import BatchModule
    from harness.stages import seed_everything, tensor_leaves

    alone = [case for case in cases if case.dynamic is not None]
    static = [case for case in cases if case.dynamic is None]
    programs = []
    for start in range(0, len(static), size):
        part = static[start:start + size]
        members = []
        for case in part:
            seed_everything(case.seed)
            members.append(case.program.build())
        try:
            ep = torch.export.export(BatchModule(members), tuple(tensor_leaves(tuple(i for _, i in members))))
            with fast(False):
                ep.run_decompositions()
        except Exception:  # noqa: BLE001 - its members are compared one by one instead
            alone.extend(part)
            continue
        programs.append(("+".join(case.case_id for case in part), ep))
    return programs + [case_program(case) for case in alone]


def kernels_now() -> dict:
    """Every CIA op's Python kernels, as objects: a dict compares them by identity."""
    from torch.export import exported_program as ep_module

    return {op: dict(op.py_kernels) for op in ep_module._collect_all_valid_cia_ops()}


def compare(programs, ways: int = 3) -> tuple[list, list]:
    """The programs decomposed three ways; the ids compared and those that differ, with the
    parts that differ and whether torch's two runs agreed. Every CIA op's kernels must be the
    same objects after all runs as before them."""
    compared, differing = [], []
    kernels = kernels_now()
    for case_id, ep in programs:
        if ep is None:
            continue
        first, mine, again = three_ways(ep, ways)
        compared.append(case_id)
        if not first == mine == again:
            differing.append((case_id, [part for part in range(len(first))
                                        if len(mine) != len(first) or first[part] != mine[part]],
                              first == again))
    assert kernels_now() == kernels, "a CIA op's Python kernels changed"
    return compared, differing


class Twice(torch.nn.Module):
    def forward(self, x):
        return torch.ops.harness_cia_probe.twice(x) + 1


@functools.cache
def _probe_library():
    # A custom op with only a CompositeImplicitAutograd kernel: torch materialises it into the
    # decomposition table itself, so it reaches the override as the aten ops do.
    lib = torch.library.Library("harness_cia_probe", "DEF")
    lib.define("twice(Tensor x) -> Tensor")
    lib.impl("twice", lambda x: x * 2, "CompositeImplicitAutograd")
    return lib


def test_cia_heavy_rows_and_a_custom_op_decompose_the_same():
    from opsuite.table import rows

    chosen = [row for row in rows() if row.op in CIA_HEAVY]
    assert {row.op for row in chosen} == set(CIA_HEAVY)
    _probe_library()
    programs = [row_program(row) for row in chosen]
    programs.append(("harness_cia_probe.twice", torch.export.export(Twice(), (torch.randn(3),))))
    compared, differing = compare(programs)
    assert differing == []
    assert len(compared) == len(programs), set(dict(programs)) - set(compared)


@pytest.mark.slow
def test_every_quick_row_and_a_zoo_model_decompose_the_same():
    from models.cases import model_case
    from models.zoo import ROWS
    from opsuite.plan import cases
    from opsuite.table import rows

    first: dict = {}
    for case in cases(list(rows()), "quick", 0):
        first.setdefault(case.meta["row"], case)
    programs = batched_programs(list(first.values()), 25)
    case = model_case(ROWS["mobilenet_v3_small"], 0)
    module, inputs = case.program.build()
    programs.append((case.case_id, torch.export.export(module, inputs)))
    compared, differing = compare(programs, ways=2)
    assert differing == []
    members = [case_id for batch in compared for case_id in batch.split("+")]
    ops = {case_id.split("[")[0] for case_id in members}
    batches = sum("+" in batch for batch in compared)
    assert len(ops) >= 300 and set(CIA_HEAVY) <= ops and case.case_id in members and batches >= 10, (len(ops), batches)


def _wrong_outer(module):
    """The harness's override with a wrong decomposition of aten.outer (unsqueeze, not view)."""
    inner = _REAL_OVERRIDE(module)

    def wrong(a, b):
        return torch.ops.aten.mul.Tensor(torch.ops.aten.unsqueeze.default(a, 1), b)

    @contextmanager
    def override(table):
        with inner({op: wrong if str(op) == "aten.outer.default" else fn for op, fn in table.items()}):
            yield

    return override


_REAL_OVERRIDE = cia_override._fast_override


def test_a_wrong_decomposition_of_one_member_shows_in_its_batch(monkeypatch):
    from opsuite.plan import cases
    from opsuite.table import rows

    chosen = [row for row in rows() if row.op in ("aten.sin.default", "aten.abs.default", "aten.outer.default")]
    programs = batched_programs([cases([row], "quick", 0)[0] for row in chosen], 25)
    assert len(programs) == 1 and programs[0][0].count("+") == 2
    assert compare(programs, ways=2)[1] == []
    was = cia_override.uninstall()
    try:
        with monkeypatch.context() as patched:
            patched.setattr(cia_override, "_fast_override", _wrong_outer)
            differing = compare(programs, ways=2)[1]
    finally:
        cia_override.uninstall()
        if was:
            cia_override.install()
    assert [(case_id, parts) for case_id, parts, _ in differing] == [(programs[0][0], [0, 2])]


def _describe(fn, mine, kept):
    """A kernel without its identity, which differs between calls even within torch's own:
    the table's own decomposition or a kernel the op had before, else its kind and contents."""
    if fn is mine:
        return "decomposition"
    if any(fn is k for k in kept):
        return "kept"
    if isinstance(fn, functools.partial):
        return ("partial", _describe(fn.func, mine, kept), tuple(_describe(a, mine, kept) for a in fn.args),
                tuple(sorted((k, _describe(v, mine, kept)) for k, v in fn.keywords.items())))
    if isinstance(fn, torch._ops.OperatorBase):
        return str(fn)
    if callable(fn) and hasattr(fn, "__code__"):
        cells = tuple(_describe(c.cell_contents, mine, kept) for c in fn.__closure__ or ())
        return (fn.__name__, cells)
    return repr(fn)


def state(table: dict, kept: dict) -> dict:
    """Every table op's Python kernels and fake-tensor rule, and whether its dispatch cache is
    empty; kernels are described against the table and the `kept` ones (see _describe)."""
    from torch._subclasses import fake_impls

    rules = fake_impls.op_implementations_dict
    return {str(op): (sorted((str(k), _describe(v, mine, kept[op])) for k, v in op.py_kernels.items()),
                      _describe(rules[op], mine, kept[op]) if op in rules else None,
                      not op._dispatch_cache)
            for op, mine in table.items()}


def state_comparison() -> dict:
    """Torch's override and the harness's on the same table from the same state: what each
    leaves inside the block and after it, compared (run in a fresh process by the test)."""
    from torch.export import exported_program as ep_module

    table, _ = ep_module._split_decomp_table_to_cia_and_python_decomp(
        ep_module.default_decompositions().materialize())
    with fast(False):
        with ep_module._override_composite_implicit_decomp(table):
            pass  # torch drops the fake rules some CIA ops came with (aten.item) on its first exit
        kept = {op: list(op.py_kernels.values()) for op in table}
        before = state(table, kept)
        with ep_module._override_composite_implicit_decomp(table):
            torch_inside = state(table, kept)
        torch_after = state(table, kept)
    with fast(True):
        with ep_module._override_composite_implicit_decomp(table):
            mine_inside = state(table, kept)
        mine_after = state(table, kept)
    return {"ops": len(table), "inside": mine_inside == torch_inside, "after": mine_after == torch_after,
            "restored": {op: found[:2] for op, found in mine_after.items()}
            == {op: found[:2] for op, found in before.items()},
            "with_kernels_before": sum(bool(found[0]) for found in before.values()),
            "changed_inside": sum(torch_inside[op][0] != before[op][0] for op in before)}


def test_state_inside_and_after_the_block_matches_torchs():
    # A fresh process: a test before this one that ran a broken override would have changed
    # the very state compared here.
    code = "import json; from tests.test_cia_override import state_comparison; print(json.dumps(state_comparison()))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["inside"] and found["after"] and found["restored"], found
    # Every op changes inside the block and some had kernels before: not two untouched states.
    assert found["ops"] > 400 and found["changed_inside"] == found["ops"] and found["with_kernels_before"] > 50, found


def test_install_is_idempotent_and_reversible():
    from torch.export import exported_program as ep_module

    with fast(False):
        original = ep_module._override_composite_implicit_decomp
        assert cia_override.install() and cia_override.install()
        assert ep_module._override_composite_implicit_decomp.__wrapped__ is original
        assert cia_override.uninstall() and not cia_override.uninstall()
        assert ep_module._override_composite_implicit_decomp is original

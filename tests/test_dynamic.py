"""Dynamic programs: declared constraints, the symbolic check, probes and per-size verdicts."""

import pytest
import torch

from harness.case import Case, DynamicSpec, Expectation, Program
from harness.records import set_dynamic_status, worst_status
from tests.helpers import CatRelu, cat_program, run

CAT = DynamicSpec(dims={"n": (2, 64)}, shapes=({0: "n"}, {0: "2*n"}, {1: "n+1"}), sizes=({"n": 2},))


@pytest.mark.parametrize("shapes, broken", [
    ([[5, 3], [10, 3], [3, 6]], []),
    ([[5, 3], [11, 3], [3, 6]], ["input 1 axis 0 is 11, but 2*n = 10 for n=5"]),
    ([[5, 3], [10, 3], [3, 7]], ["input 2 axis 1 is 7, but n+1 = 6 for n=5"]),
    ([[1, 3], [2, 3], [3, 2]], ["n=1 outside [2, 64]"]),
    ([[65, 3], [130, 3], [3, 66]], ["n=65 outside [2, 64]"]),
])
def test_violations_name_broken_relations_and_ranges(shapes, broken):
    assert CAT.violations(shapes) == broken


def test_violations_read_a_dim_first_seen_in_derived_form():
    spec = DynamicSpec(dims={"d": (1, 8)}, shapes=({0: "2*d"}, {0: "d"}), sizes=({"d": 1},))
    assert spec.violations([[6], [3]]) == []
    assert spec.violations([[7], [3]]) == ["input 0 axis 0 is 7, not of the form 2*d"]
    assert spec.violations([[6], [4]]) == ["input 1 axis 0 is 4, but d = 3 for d=3"]


@pytest.mark.parametrize("dims, shapes, message", [
    ({"n": (4, 2)}, ({0: "n"},), "empty"),
    ({"n": (1, 4)}, ({0: "m"},), "exactly one declared dim"),
    ({"n": (1, 4)}, ({0: "n*m"},), "exactly one declared dim"),
    ({"n": (1, 4)}, ({0: "4-n"},), "not increasing"),
])
def test_dynamic_spec_refuses_what_torch_export_cannot_express(dims, shapes, message):
    with pytest.raises(ValueError, match=message):
        DynamicSpec(dims=dims, shapes=shapes, sizes=({"n": 1},))


def test_expectation_sizes_scope_covers_only_sizes_inside_it():
    scoped = Expectation(reason="from b=2 on", status="mismatch", sizes={"b": (2, 16)})
    assert scoped.covers({"b": 2}) and scoped.covers({"b": 16})
    assert not scoped.covers({"b": 1}) and not scoped.covers({"n": 4}) and not scoped.covers(None)
    assert Expectation(reason="always", status="mismatch").covers(None)


def test_program_verdict_is_the_worst_size_and_ignores_probes():
    assert worst_status(["pass", "xfail", "pass"]) == "xfail"
    assert worst_status(["pass", "mismatch", "run_error"]) == "mismatch"
    # The probe carries the most severe status there is: counted, it would be the verdict.
    records = [{"dynamic_case": "p", "status": "pass"}, {"dynamic_case": "p", "status": "xfail"},
               {"dynamic_case": "p", "status": "crash", "probe": {"outcome": "silent-wrong"}}]
    set_dynamic_status(records)
    assert {r["dynamic_status"] for r in records} == {"xfail"}


def _symbolic_check(dynamic_ep, relax_from):
    from tvm.relax.frontend.torch import from_exported_program

    from harness.symbolic import symbolic_check

    mod = from_exported_program(relax_from.run_decompositions(), run_ep_decomposition=False)
    return symbolic_check({"n": (2, 64)}, [{0: "n"}, {0: "2*n"}], dynamic_ep, mod)


def _cat_ep(dynamic: bool):
    x, y = torch.randn(5, 3), torch.randn(10, 3)
    n = torch.export.Dim("n", min=2, max=64)
    shapes = ({0: n}, {0: 2 * n}) if dynamic else None
    return torch.export.export(CatRelu(), (x, y), dynamic_shapes=shapes)


def test_symbolic_check_maps_dims_and_reads_the_declared_bounds():
    ep = _cat_ep(dynamic=True)
    check = _symbolic_check(ep, ep)
    assert check["problems"] == []
    assert set(check["dims"]) == {"n"} and check["bounds"] == {"n": [2, 64]}


def test_a_module_specialised_to_the_example_size_is_caught():
    check = _symbolic_check(_cat_ep(dynamic=True), _cat_ep(dynamic=False))
    assert any("specialised to 5 in the Relax signature" in p for p in check["problems"]), check["problems"]
    assert any("reaches the module as [None, None]" in p for p in check["problems"]), check["problems"]


def test_each_probe_outcome_and_a_converter_wrong_only_outside_the_range(tmp_path):
    # The converter keeps the first 192 rows of cat(n rows, 2n rows): right for every n the
    # declared range allows (n <= 64), silently short beyond it.
    case = Case("dyn.cat[float32-probes]", "dynamic", "aten.cat.default", Program(cat_program, {}), "float32",
                dynamic=DynamicSpec(dims={"n": (2, 64)}, shapes=({0: "n"}, {0: "2*n"}),
                                    sizes=({"n": 2}, {"n": 64}),
                                    probes=({"n": 1}, {"n": 5, "in1.n": 6}, {"n": 65}, {"n": 3, "in0.n": -1})))
    records = run([case], tmp_path, convert_map="tests.converters:KEEPS_192_ROWS")
    probes = {r["case_id"].partition("@probe:")[2]: r for r in records.values() if r["probe"]}
    assert {k: p["probe"]["outcome"] for k, p in probes.items()} == {
        "n=1": "silent-correct",  # below the range: TVM runs it, and rightly
        "n=5,in1.n=6": "rejected",  # a broken relation: TVM's shape check refuses it
        "n=65": "silent-wrong",  # above the range: 192 of 195 rows, and no error
        "n=3,in0.n=-1": "not-run",  # the factory cannot build such inputs: nothing reached TVM
    }
    assert probes["n=1"]["probe"]["broken"] == ["n=1 outside [2, 64]"]
    assert probes["n=5,in1.n=6"]["probe"]["broken"] == ["input 1 axis 0 is 12, but 2*n = 10 for n=5"]
    assert "shape [192, 3] != expected [195, 3]" in probes["n=65"]["probe"]["error"]
    assert "match_cast error" in probes["n=5,in1.n=6"]["probe"]["error"]
    for probe in probes.values():
        assert probe["status"] == "skip"
        assert probe["skip_reason"] == f"constraint-probe: {probe['probe']['outcome']}"
        assert probe["repro"] is None
    # Probes are findings: the program's verdict comes from its in-range sizes only.
    assert [r["status"] for r in records.values() if not r["probe"]] == ["pass", "pass"]
    assert {r["dynamic_status"] for r in records.values()} == {"pass"}


def test_a_converter_that_bakes_in_the_example_size_fails_the_symbolic_stage(tmp_path):
    case = Case("dyn.cat[float32-baked]", "dynamic", "aten.cat.default", Program(cat_program, {}), "float32",
                dynamic=DynamicSpec(dims={"n": (2, 64)}, shapes=({0: "n"}, {0: "2*n"}),
                                    sizes=({"n": 2}, {"n": 64})))
    records = run([case], tmp_path, convert_map="tests.converters:BAKES_SIZE")
    assert {r["status"] for r in records.values()} == {"import_error"}
    assert {r["stage"] for r in records.values()} == {"symbolic"}
    assert all("output 0 axis 0" in r["error"] and "specialised to 12" in r["error"] for r in records.values())


def test_every_dynamic_known_failure_applies_to_some_program():
    from opsuite import dynamic
    from opsuite.expectations import entries as expectations

    cases = dynamic.cases("nightly", seed=0)
    entries = [e for e in expectations.load() if e["_file"].name == "dynamic.toml"]
    assert entries
    for entry in entries:
        expectation = expectations.to_expectation(entry)
        named = [c for c in cases if expectations.entry_matches(entry, c) and expectation.applies(c, "llvm")]
        assert named, f"dynamic.toml: no dynamic program for {entry['op']} ({entry['reason'][:60]})"


class _Numel(torch.nn.Module):
    def forward(self, x):
        return x.reshape(-1) * x.numel()


class _Stride(torch.nn.Module):
    def forward(self, x):
        return x[:, 0] * x.stride(0)


class _StorageOffset(torch.nn.Module):
    def forward(self, x):
        return x * x.storage_offset()


class _ConstrainRange(torch.nn.Module):
    def forward(self, x):
        torch.ops.aten.sym_constrain_range_for_size.default(x.shape[0], min=2, max=16)
        return x * 2


def _graph_ops(module) -> set[str]:
    """Every call target of the exported graph, before and after decomposition."""
    dims = {0: torch.export.Dim("b", min=2, max=16), 1: torch.export.Dim("n", min=2, max=16)}
    ep = torch.export.export(module, (torch.randn(5, 7),), dynamic_shapes=(dims,))
    return {str(node.target) for graph in (ep.graph, ep.run_decompositions().graph)
            for node in graph.nodes if node.op == "call_function"}


@pytest.mark.parametrize("op, module", [
    ("aten.sym_stride.int", _Stride()),
    ("aten.sym_storage_offset.default", _StorageOffset()),
    ("aten.sym_constrain_range_for_size.default", _ConstrainRange()),
])
def test_ops_declared_without_a_program_never_reach_an_exported_graph(op, module):
    from opsuite import dynamic
    from opsuite.coverage import inventory

    assert op in dynamic.no_program() and inventory.inventory()[op]["no_case"]
    assert op not in _graph_ops(module)


def test_the_graph_probe_does_see_a_symbolic_size_op():
    # The counter-check: the same probe finds sym_numel, which a program covers.
    assert "aten.sym_numel.default" in _graph_ops(_Numel())

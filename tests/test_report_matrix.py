"""The coverage matrix on crafted records: grades, cells, attribution, completeness, triage."""

import collections

import pytest
import torchvision

from opsuite.coverage import denominators, inventory
from reports import load, matrix, triage, universe
from reports.matrix import grade
from tests.crafted import record, scenario, write_dir


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    run = load.load(write_dir(tmp_path_factory.mktemp("matrix"), scenario()))
    return run, matrix.build(run)


@pytest.mark.parametrize("op, expected", [
    ("aten.add.Tensor", "full"),
    ("aten.mul.Tensor", "partial"),
    ("aten.sub.Tensor", "none"),
    ("aten.neg.default", "unproven"),  # degenerate-only passes prove nothing
    ("aten.abs.default", "full"),  # a degenerate pass beside a proper one neither proves nor fails
    ("aten.exp.default", "none"),  # expected failures only
    ("aten.log.default", "partial"),  # a pass and an expected failure
    ("aten.relu.default", "none"),  # an unexpected pass is not a clean pass
    ("aten.cos.default", "compiles"),  # CUDA without a GPU: kernels compiled for every arch
    ("aten.tan.default", "partial"),  # one compiles, one the device compiler rejects
    ("aten.tanh.default", "skipped"),
    ("opinfo.sin", "full"),
    ("resnet18", "full"),
    ("raft_small", "none"),
])
def test_grades(built, op, expected):
    _, table = built
    assert table.by_name[op].grade == expected


def test_rows_without_records_are_not_run_or_no_case(built):
    _, table = built
    planned = {op for op, info in inventory.inventory().items() if info["rows"]}
    without = [row for row in table.rows if not row.own]
    for row in without:
        assert row.grade == ("not run" if row.row.planned else "no case"), row.name
    assert any(row.name in planned for row in without), "the op table plans ops this record set lacks"
    # a model listed by torchvision with a zoo row but no record here: planned, not run
    assert table.by_name["alexnet"].grade == "not run"


def test_cells_count_passes_over_cases_that_ran(built):
    _, table = built
    add = table.by_name["aten.add.Tensor"]
    assert add.cells["llvm/float32"].text == "2/2"
    assert add.cells["llvm/bool"].text == "1 skip"
    assert add.cells["llvm/dynamic"].text == "2/2"  # the probe is not a case of the op
    assert add.cells["llvm/int32+float16"].text == "1/1"
    assert table.by_name["aten.mul.Tensor"].cells["llvm/float16"].text == "0/2 · 2 mismatch"
    assert table.by_name["aten.mul.Tensor"].cells["llvm/float16"].worst == "mismatch"
    assert table.by_name["aten.abs.default"].cells["llvm/float32"].text == "1/2 · 1 degenerate"
    cos = table.by_name["aten.cos.default"].cells["cuda/float32"]
    assert (cos.text, cos.worst) == ("1 compiles · kernels sm_80 sm_90 1/1", "compiles")
    tan = table.by_name["aten.tan.default"].cells["cuda/float16"]
    assert tan.text == "0/1 · 1 compile_error · 1 compiles · kernels sm_80 1/2 (1 rejected) · sm_90 1/1"
    assert tan.worst == "compile_error"


def test_columns_are_target_then_dtype_with_dynamic_last(built):
    _, table = built
    cols = table.columns
    assert cols.index("llvm/float32") < cols.index("llvm/float16") < cols.index("llvm/int32+float16") \
        < cols.index("llvm/dynamic") < cols.index("cuda/float32")


def test_cases_for_an_op_and_cases_that_use_it_are_kept_apart(built):
    _, table = built
    mul = table.by_name["aten.mul.Tensor"]
    assert sum(mul.own.values()) == 3 and mul.uses == {"pass": 1}  # the OpInfo sin case uses mul
    add = table.by_name["aten.add.Tensor"]
    assert add.models == {"raft_small": "none", "resnet18": "full"}
    conv = table.by_name["aten.convolution.default"]
    assert conv.models == {"resnet18": "full"} and not conv.own
    assert conv.grade in ("not run", "no case"), "a model using an op never grades it"


def test_every_denominator_entry_is_a_row(built):
    _, table = built
    names = set(table.by_name)
    assert set(denominators.union()) <= names
    assert {f"opinfo.{e}" for e in denominators.opinfo_entries()} <= names
    assert set(torchvision.models.list_models()) <= names
    assert {r.name: r.row.denominators for r in table.rows}["aten.add.Tensor"] == ["convert_map", "core", "reached"]
    extra = table.by_name["aten.special_bessel_j0.default"]
    assert extra.row.denominators == ["reached"] and extra.grade == "none"  # OpInfo samples reach it
    assert table.by_name["aten.grid_sampler_2d.default"].models == {"raft_small": "none"}


def test_grade_counts_add_up_per_denominator(built):
    _, table = built
    counts = matrix.grade_counts(table, "convert_map")
    assert counts["total"] == 317  # the convert map of the pinned apache-tvm, read from the wheel
    assert sum(counts[g] for g in matrix.GRADES) == counts["total"]
    # The scenario's convert-map ops: full add, abs; partial mul, log, tan (CUDA compiles and a
    # compile error); compiles cos (CUDA without a GPU); unproven neg (a degenerate pass only); none
    # sub, exp, relu; skipped tanh. The rest has no record here.
    assert {g: counts[g] for g in ("full", "partial", "compiles", "unproven", "none", "skipped")} == {
        "full": 2, "partial": 3, "compiles": 1, "unproven": 1, "none": 3, "skipped": 1}


def test_triage_groups_by_signature_and_picks_the_smallest_example(built):
    run, _ = built
    bugs = {b.signature: b for b in triage.bugs(run)}
    wrong = bugs["compare: output N values from aten.mul.Tensor"]
    assert wrong.count == 2 and wrong.dtypes == ["float16"]
    assert wrong.example["case_id"] == "aten.mul.Tensor[float16-1]"  # 2+2 elements, not 16+4
    assert "import: ValueError: no sub" in bugs
    exp = bugs["compare: output N values from aten.exp.default"]
    assert exp.expected == exp.count == 1 and exp.reasons == ["known in this test"]
    ordered = triage.bugs(run)
    assert [b.id for b in ordered] == [f"B{i}" for i in range(1, len(ordered) + 1)]
    # undeclared bugs come first
    assert all(b.expected < b.count for b in ordered[:4]) and ordered[-1].expected == ordered[-1].count
    assert [r["case_id"] for r in triage.stale(run)] == ["aten.relu.default[float32-0]"]


def test_equal_messages_on_different_ops_are_one_bug(tmp_path):
    error = "TVMError: Check failed: (dtype == x) is false"
    run = load.load(write_dir(tmp_path, [record("aten.a.default[float32-0]", "aten.a.default", "compile_error", error=error),
                                         record("aten.b.default[int8-0]", "aten.b.default", "compile_error", dtype="int8",
                                                error=error, input_shapes=[[1]])]))
    (bug,) = triage.bugs(run)
    assert bug.ops == ["aten.a.default", "aten.b.default"] and bug.dtypes == ["float32", "int8"]
    assert bug.example["case_id"] == "aten.b.default[int8-0]"


def test_a_failure_before_the_importer_is_pytorchs_and_facets_split_wrong_outputs(tmp_path):
    run = load.load(write_dir(tmp_path, [
        record("aten.a.default[float32-0]", "aten.a.default", "export_error", error="GuardOnDataDependentSymNode"),
        record("aten.b.default[float32-0]", "aten.b.default", "import_error", error="ValueError: no b"),
        record("aten.c.default[float32-0]", "aten.c.default", "mismatch", error_signature="compare: output N dtype"),
        record("aten.c.default[float32-1]", "aten.c.default", "mismatch", error_signature="compare: output N values")]))
    found = {b.ops[0] + " " + b.signature: b for b in triage.bugs(run)}
    owners = {key.split()[0]: bug.owner for key, bug in found.items()}
    assert owners == {"aten.a.default": "PyTorch", "aten.b.default": "TVM", "aten.c.default": "TVM"}
    assert "aten.c.default compare: output N dtype from aten.c.default" in found and len(found) == 4


def test_an_op_only_samples_reach_is_a_row_graded_on_the_cases_that_reach_it(tmp_path):
    run = load.load(write_dir(tmp_path, [
        record("opinfo.argsort[float32-s2]", "opinfo.argsort", aten_ops=["aten.sort.stable"], family="opinfo"),
        record("opinfo.sort[float32-s2]", "opinfo.sort", "mismatch", aten_ops=["aten.sort.stable"], family="opinfo")]))
    table = matrix.build(run)
    row = table.by_name["aten.sort.stable"]
    assert row.row.denominators == ["reached"] and row.grade == "partial"
    assert matrix.grade_counts(table, "reached")["total"] > 100
    # an op the importer has a converter for keeps its own grade: no case of its own here
    assert table.by_name["aten.add.Tensor"].grade == "not run" and "reached" in table.by_name["aten.add.Tensor"].row.denominators


@pytest.mark.parametrize("outcomes, expected", [
    ({"degenerate": 3}, "unproven"),  # only degenerate passes: ran, passed, proved nothing
    ({"degenerate": 1, "mismatch": 2}, "unproven"),  # its only passes are degenerate
    ({"degenerate": 1, "pass": 1}, "full"),
    ({"degenerate": 1, "pass": 1, "xfail": 1}, "partial"),
    ({"mismatch": 1, "xfail": 1}, "none"),  # nothing passed at all
])
def test_an_op_whose_only_passes_are_degenerate_is_unproven(outcomes, expected):
    row = universe.CoverageRow("aten.x.default", "aten", ["core"], planned=1)
    assert grade(collections.Counter(outcomes), row) == expected


def test_a_pass_degenerate_by_its_ops_definition_proves_and_is_counted_apart(tmp_path):
    from reports import summary
    from reports.render_md import degenerate_line

    why = {"degenerate_by_definition": "the output is constant by definition"}
    records = [record("aten.zeros.default[float32-0]", "aten.zeros.default", degenerate="all-zero", meta=why),
               record("aten.neg.default[float32-0]", "aten.neg.default", degenerate="all-zero", meta={"tier": "edge"}),
               record("aten.neg.default[float32-1]", "aten.neg.default", meta={"tier": "normal"}),
               record("aten.abs.default[float32-0]", "aten.abs.default", "xfail", raw="mismatch"),
               record("opinfo.abs[float32-s0]", "opinfo.abs", degenerate="empty", family="opinfo")]
    run = load.load(write_dir(tmp_path, records))
    table = matrix.build(run)
    assert table.by_name["aten.zeros.default"].grade == "full"
    assert table.by_name["aten.neg.default"].cells["llvm/float32"].text == "1/2 · 1 degenerate"
    figures = summary.summarise(run, table, [])["degenerate"]
    assert figures == {"passes": 4, "drawn": 2, "by_definition": 1, "drawn_by_tier": {"edge": 1, "opinfo": 1}}
    assert degenerate_line(figures).startswith("Passes on a degenerate reference: 2 of 4 (50.0%) (where: edge 1, opinfo 1); 1 more")

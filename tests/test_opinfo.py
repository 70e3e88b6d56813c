"""OpInfo as a source of cases: complete against op_db, stable ids, exact rebuilds, real runs, repros."""

import os
import subprocess
import sys
from pathlib import Path

import torch

from harness.case import check_unique
from opsuite.coverage import denominators, inventory
from opsuite.expectations.entries import attach
from opsuite.opinfo import cases as opinfo
from opsuite.opinfo import screen as opinfo_screen
from opsuite.standalone import opinfo_checks, properties
from opsuite.standalone import opinfo_programs as P
from tests.helpers import op_case, run

ROOT = Path(__file__).resolve().parent.parent


def _case(case_id, profile="nightly", seed=0):
    (case,) = [c for c in attach(opinfo.cases(profile, seed)) if c.case_id == case_id]
    return case


def test_the_screen_names_exactly_the_op_db_entries():
    screened = opinfo.screen()
    assert set(screened) == set(denominators.opinfo_entries()), f"regenerate with: {opinfo_screen.COMMAND}"
    for entry, info in screened.items():
        assert P.find_entry(info["name"], info["variant"]) is not None
        assert denominators.opinfo_id(P.find_entry(info["name"], info["variant"])) == entry


def test_every_entry_has_cases_or_a_reason():
    assert inventory.opinfo_missing() == []
    quick = opinfo.quick_samples(opinfo.row_ops())
    for entry, info in inventory.opinfo_inventory().items():
        assert (info["nightly"] >= 1) != bool(info["excluded"]), entry
        # one sample, or more where later samples reach an overload no other quick case does
        assert info["quick"] <= max(1, len(quick.get(entry, []))), entry
    for entry, reason in opinfo.excluded().items():
        category = opinfo.screen()[entry]["excluded"]
        assert reason.startswith(opinfo_screen.CATEGORIES[category]), entry


def test_excluded_entries_say_what_failed():
    reasons = opinfo.excluded()
    assert "DataDependentOutputException" in reasons["allclose"]  # torch.export's own limit
    assert reasons["jiterator_unary"].startswith(opinfo_screen.CATEGORIES["eager-error"])
    assert "complex64" in reasons["istft"]  # complex-only: no dtype the harness runs
    assert opinfo.exclusion_categories()["export-error"] == sum(
        1 for r in reasons.values() if r.startswith(opinfo_screen.CATEGORIES["export-error"]))


def test_ids_are_unique_readable_and_independent_of_the_seed():
    quick, nightly = opinfo.cases("quick", 0), opinfo.cases("nightly", 0)
    check_unique(quick + [c for c in nightly if c.case_id not in {q.case_id for q in quick}])
    check_unique(nightly)
    assert {c.case_id for c in quick} <= {c.case_id for c in nightly}
    assert len(nightly) > 2 * len(quick)
    assert [c.case_id for c in opinfo.cases("nightly", 7)] == [c.case_id for c in nightly]
    add = next(c for c in nightly if c.op == "opinfo.add")
    assert add.case_id == "opinfo.add[float32-s1]" and add.kind == "op" and add.dtype == "float32"
    assert add.meta["opinfo"] == "add" and add.meta["sample"] == "(Tensor[5], Tensor[])"


def test_generation_reads_data_only():
    # Nightly only: quick also reads the op table's rows, whose modules may import op_db themselves.
    code = ("import sys; from opsuite.opinfo import cases; cases.cases('nightly', 0); "
            "print('op_db imported' if 'torch.testing._internal.common_methods_invocations' in sys.modules else 'ok')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-1] == "ok"


def test_quick_keeps_one_sample_of_each_entry_that_brings_an_overload_no_row_is_for():
    row_ops = opinfo.row_ops()
    quick = opinfo.cases("quick", 0)
    chosen = opinfo.quick_entries(row_ops)
    assert sorted(set(c.meta["opinfo"] for c in quick)) == sorted(set(chosen) | set(opinfo.quick_samples(row_ops)))
    assert set(chosen) <= set(opinfo.quick_samples(row_ops))
    brought = set().union(*chosen.values())
    assert not brought & row_ops
    # Nothing the nightly profile's first samples reach beyond the rows is lost by the trim.
    for entry, info in opinfo.screen().items():
        if "excluded" not in info:
            dtype, index = opinfo.chosen_samples(info, "quick")[0]
            assert opinfo._aten_ops(info, dtype, index) <= brought | row_ops, entry
    # A row for an overload takes the entries that bring only it out of quick.
    some_entry, its_ops = next(iter(chosen.items()))
    assert some_entry not in opinfo.quick_entries(row_ops | set(its_ops))


def test_every_overload_a_sample_reaches_is_reached_by_a_quick_case_or_has_a_row():
    reached = opinfo.reached()
    assert "aten.sort.stable" in reached  # only a later sample of argsort reaches it
    row_ops = opinfo.row_ops()
    quick = opinfo.cases("quick", 0)
    screen = opinfo.screen()
    in_quick = set()
    for case in quick:
        kwargs = case.program.kwargs
        in_quick |= opinfo._aten_ops(screen[case.meta["opinfo"]], kwargs["dtype"], kwargs["index"])
    assert set(reached) - row_ops - in_quick == set()


def _tensors(inputs):
    return [x.clone() for x in inputs]


def test_same_seed_same_sample_other_seed_other_values():
    _, first = P.opinfo_program("addmm", "", "float32", 0, 3)
    _, again = P.opinfo_program("addmm", "", "float32", 0, 3)
    _, other = P.opinfo_program("addmm", "", "float32", 0, 4)
    assert len(first) == 3
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert [a.shape for a in first] == [b.shape for b in other]
    assert not all(torch.equal(a, b) for a, b in zip(first, other, strict=True))


def test_the_factory_rebuilds_the_screened_sample_and_calls_its_op():
    for entry in ("cat", "nn.functional.conv2d", "index_put", "clamp"):
        info = opinfo.screen()[entry]
        dtype, index = opinfo.chosen_samples(info, "quick")[0]
        sample = P.sample_at(info["name"], info["variant"], dtype, index, opinfo_screen.SEED)
        assert P.sample_description(sample) == info["samples"][dtype][index]["description"], entry
        module, inputs = P.opinfo_program(info["name"], info["variant"], dtype, index, opinfo_screen.SEED)
        leaves = torch.utils._pytree.tree_leaves((sample.input, sample.args, sample.kwargs))
        assert len(inputs) == sum(isinstance(x, torch.Tensor) for x in leaves), entry
        op = P.find_entry(info["name"], info["variant"]).op
        expected = op(sample.input, *sample.args, **sample.kwargs)
        assert torch.equal(module(*_tensors(inputs)), expected), entry


def test_property_checks_judge_what_holds_for_every_draw():
    draw = [torch.tensor([0.5, 2.0])]
    assert opinfo_checks.random_draw(draw, [torch.tensor([1.5, 0.1])], ()) is None
    assert "non-finite" in opinfo_checks.random_draw(draw, [torch.tensor([1.0, float("inf")])], ())
    assert properties.structure_only(draw, [torch.tensor([float("nan"), 7.0])], ()) is None
    assert _case("opinfo.uniform[float32-s0]").check is opinfo_checks.random_draw
    assert _case("opinfo.empty_like[float32-s1]").check is properties.structure_only
    assert _case("opinfo.add[float32-s1]").check is None


def test_undefined_values_are_not_compared_but_their_structure_is(tmp_path):
    """A case checked by `undefined_values` (torch.empty and kin) passes whatever the values, and
    still fails on a dtype that differs from eager's: the engine checks structure first."""
    gen = torch.Generator().manual_seed(5)
    x = torch.rand(3, 4, generator=gen, dtype=torch.float64)
    cases = [op_case("aten.sin.default", [x], dtype="float64", check=properties.structure_only),
             op_case("aten.cos.default", [x], dtype="float64", check=properties.structure_only)]
    records = run(cases, tmp_path, "tests.converters:WRONG_VALUES_AND_DTYPE")
    assert records["aten.sin.default[float64-0]"]["status"] == "pass"  # cos's values, accepted
    cos = records["aten.cos.default[float64-0]"]
    assert (cos["status"], cos["error"]) == ("mismatch", "output 0: dtype float32 != expected float64")


def test_real_entries_run_end_to_end(tmp_path):
    cases = [_case("opinfo.add[float32-s1]"), _case("opinfo.cat[float32-s0]"), _case("opinfo.exponential[float32-s0]")]
    records = run(cases, tmp_path)
    for case in cases:
        record = records[case.case_id]
        assert record["status"] == "pass", record["error"]
        assert record["op"] == case.op and record["meta"]["sample"] == case.meta["sample"]
    assert records["opinfo.add[float32-s1]"]["aten_ops"] == ["aten.add.Tensor"]
    assert records["opinfo.add[float32-s1]"]["input_shapes"] == [[5], []]
    assert records["opinfo.cat[float32-s0]"]["input_shapes"] == [[5, 5], [5, 5]]  # a tensor list: two inputs
    assert "aten.cat.default" in records["opinfo.cat[float32-s0]"]["aten_ops"]
    assert records["opinfo.exponential[float32-s0]"]["aten_ops"] == ["aten.exponential.default"]


def test_repro_of_a_failing_case_reproduces_its_status(tmp_path):
    case = _case("opinfo.uniform[float32-s0]")  # the importer has no converter for aten.uniform
    (record,) = run([case], tmp_path).values()
    assert record["raw_status"] == "import_unsupported" and record["status"] == "xfail", record["error"]
    assert record["unsupported_ops"] == ["aten.uniform.default"]
    done = subprocess.run([sys.executable, record["repro"]], capture_output=True, text=True, timeout=300,
                          cwd=tmp_path, env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert done.stdout.strip().splitlines()[-1] == "status: import_unsupported", done.stdout + done.stderr


def test_known_failures_name_entries_that_have_cases():
    from opsuite.expectations import entries as expectations

    nightly = opinfo.cases("nightly", 0)
    for entry in expectations.load():
        if entry["_file"].name != "opinfo.toml":
            continue
        assert entry.get("kinds") == ["op"], entry["op"]
        assert any(expectations.entry_matches(entry, c) for c in nightly), f"stale: {entry['op']}"


def test_check_of_an_entry_left_out_of_quick_runs_its_nightly_cases(tmp_path):
    assert "add" not in opinfo.quick_entries(opinfo.row_ops())  # aten.add.Tensor has a row
    done = subprocess.run([sys.executable, "-m", "harness", "check", "opinfo.add", "--jobs", "1",
                           "--out", str(tmp_path / "add")], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "checking its nightly ones" in done.stdout
    ran = [line.split()[0] for line in done.stdout.splitlines() if line.startswith("opinfo.add[")]
    assert ran == [c.case_id for c in opinfo.cases("nightly", 0) if c.op == "opinfo.add"]


def test_a_half_used_sample_generator_is_closed_before_samples_returns(monkeypatch):
    """A sample generator left to the cyclic garbage collector runs its cleanup (a decorator's
    torch.no_grad re-entered) inside whatever trace is under way later: it must close now."""
    import copy
    import gc

    from torch.testing._internal.opinfo.core import SampleInput

    closed, holder = [], []

    def cyclic(op, device, dtype, requires_grad, **kwargs):
        keep = holder  # the generator's frame holds the list that holds the generator: a cycle
        try:
            for i in range(5):
                yield SampleInput(torch.full((2,), float(i + len(keep))))
        finally:
            closed.append(True)

    def sample_inputs_func(*args, **kwargs):
        holder.append(cyclic(*args, **kwargs))
        return holder[-1]

    entry = copy.copy(P.find_entry("bincount"))
    entry.sample_inputs_func = sample_inputs_func
    monkeypatch.setattr(P, "find_entry", lambda name, variant="": entry)
    gc.disable()
    try:
        found = P.samples("bincount", "", "float32", 0, count=2)
        assert len(found) == 2 and closed == [True]
    finally:
        gc.enable()


def test_samples_are_the_entrys_own_draws():
    for name in ("bincount", "index_put", "add", "nn.functional.conv2d"):
        entry = P.find_entry(name)
        P.seed_all(3)
        tracked = [P.describe(s.input) + P.describe(s.args) + P.describe(s.kwargs)
                   for s in entry.sample_inputs("cpu", torch.float32, requires_grad=False, set_seed=False)][:4]
        ours = [P.describe(s.input) + P.describe(s.args) + P.describe(s.kwargs) for s in P.samples(name, "", "float32", 3, 4)]
        assert ours == tracked, name

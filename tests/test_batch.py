"""Batches (harness.batch): many op cases in one program, every record still the case's own."""

from __future__ import annotations

import json

import pytest
import torch

from harness.case import Expectation
from harness.pool import Pool, PoolOptions
from harness.records import read_results
from tests.helpers import add_case, op_case, run, sin_case, stable

# What a batch may change in a record: where the time went, and the note that it was batched.
BATCH_ONLY = {"batch", "device_compile"}


def _own(record: dict) -> dict:
    return {k: v for k, v in stable(record).items() if k not in BATCH_ONLY}


def _cos_of_input(module, inputs):
    """The model of WRONG_VALUES_AND_DTYPE's sin: TVM computes cos."""
    return torch.cos(inputs[0])


def _mixed_cases() -> list:
    gen = torch.Generator().manual_seed(3)
    x, y = torch.randn(4, 5, generator=gen), torch.randn(2, 5, generator=gen)
    known = Expectation("the converter computes cos", status="mismatch", stage="compare", id="t.cos",
                        facets=("values",), model=_cos_of_input)
    return [
        sin_case(),  # wrong values
        sin_case(variant="known", expectations=(known,)),  # a known wrong value, with its model
        op_case("aten.cos.default", [x.double()], dtype="float64"),  # a wrong dtype
        add_case(),
        op_case("aten.leaky_relu.default", [x, 0.3]),  # a constant argument
        op_case("aten.cat.default", [[x, y], 0]),  # tensors inside a list
        op_case("aten.max.dim", [x, 1]),  # two outputs
        op_case("aten.add.Tensor", [x, y], variant="eager-refuses"),  # eager fails: a skip
        op_case("aten.argmax.default", [x], {"dim": 1}, dtype="float32", variant="int-out"),
    ]


def test_members_of_a_batch_get_the_records_they_get_alone(tmp_path):
    cases = _mixed_cases()
    alone = run(cases, tmp_path / "alone", "tests.converters:WRONG_VALUES_AND_DTYPE", batch=1)
    batched = run(cases, tmp_path / "batched", "tests.converters:WRONG_VALUES_AND_DTYPE", batch=16)
    assert {k: r["status"] for k, r in alone.items()} == {
        "aten.sin.default[float32-0]": "mismatch",
        "aten.sin.default[float32-known]": "xfail",
        "aten.cos.default[float64-0]": "mismatch",
        "aten.add.Tensor[float32-0]": "pass",
        "aten.leaky_relu.default[float32-0]": "pass",
        "aten.cat.default[float32-0]": "pass",
        "aten.max.dim[float32-0]": "pass",
        "aten.add.Tensor[float32-eager-refuses]": "skip",
        "aten.argmax.default[float32-int-out]": "pass",
    }
    for case_id, record in alone.items():
        assert _own(batched[case_id]) == _own(record), case_id
        assert record.get("batch") is None
    credited = {k for k, r in batched.items() if r.get("batch")}
    assert credited == set(alone) - {"aten.add.Tensor[float32-eager-refuses]"}
    assert {r["batch"]["size"] for k, r in batched.items() if k in credited} == {len(credited)}


class SinTimesCos(torch.nn.Module):
    def forward(self, x):
        return torch.sin(x) * torch.cos(x)


def sin_times_cos_program():
    return SinTimesCos(), (torch.randn(3, 4, generator=torch.Generator().manual_seed(6)),)


def test_members_refused_for_missing_converters_get_the_records_they_get_alone(tmp_path):
    """The importer names every op it lacks a converter for before converting anything: each
    member refused that way is told its own ops (one, or two: its error lists both), a member
    none of whose ops was refused runs alone (here it passes: an xpass), and a member of the
    other kind never shares the refused program."""
    from harness.case import Case, Program

    at_import = Expectation("no converter", status="import_unsupported", stage="import", id="t.import",
                            match=r"Unsupported function types \[.*'(sin|cos)\.default'")
    x = torch.randn(3, 4, generator=torch.Generator().manual_seed(5))
    cases = [
        sin_case(variant="a", expectations=(at_import,)),
        op_case("aten.cos.default", [x], variant="b", expectations=(at_import,)),
        Case("sin_times_cos[float32-c]", "op", "aten.sin.default", Program(sin_times_cos_program, {}), "float32",
             expectations=(at_import,)),
        op_case("aten.tan.default", [x], variant="d", expectations=(at_import,)),
        add_case(),
    ]
    alone = run(cases, tmp_path / "alone", "tests.converters:REMOVED_SIN_COS", batch=1)
    batched = run(cases, tmp_path / "batched", "tests.converters:REMOVED_SIN_COS", batch=16)
    assert {k: (r["raw_status"], r["status"]) for k, r in alone.items()} == {
        "aten.sin.default[float32-a]": ("import_unsupported", "xfail"),
        "aten.cos.default[float32-b]": ("import_unsupported", "xfail"),
        "sin_times_cos[float32-c]": ("import_unsupported", "xfail"),
        "aten.tan.default[float32-d]": ("pass", "pass"),
        "aten.add.Tensor[float32-0]": ("pass", "pass"),
    }
    assert alone["sin_times_cos[float32-c]"]["unsupported_ops"] == ["aten.cos.default", "aten.sin.default"]
    for case_id, record in alone.items():
        assert _own(batched[case_id]) == _own(record), case_id
    credited = {k: r["batch"]["size"] for k, r in batched.items() if r.get("batch")}
    assert credited == {"aten.sin.default[float32-a]": 4, "aten.cos.default[float32-b]": 4,
                        "sin_times_cos[float32-c]": 4}


def test_a_batch_that_fails_to_import_runs_each_member_alone(tmp_path):
    cases = [add_case(), sin_case(), add_case(variant="b")]
    records = run(cases, tmp_path, "tests.converters:RAISES", batch=16)
    sin = records["aten.sin.default[float32-0]"]
    assert (sin["status"], sin["stage"]) == ("import_error", "import")
    assert sin.get("batch") is None
    for key in ("aten.add.Tensor[float32-0]", "aten.add.Tensor[float32-b]"):
        assert records[key]["status"] == "pass"
        assert records[key].get("batch") is None  # nothing is credited from a batch that failed


@pytest.mark.slow
def test_a_crash_inside_a_batch_is_the_crashing_case_own_record(tmp_path):
    cases = [add_case(), sin_case(), add_case(variant="b")]
    alone = run(cases, tmp_path / "alone", "tests.converters:SEGFAULTS", batch=1)
    batched = run(cases, tmp_path / "batched", "tests.converters:SEGFAULTS", batch=16)
    sin = batched["aten.sin.default[float32-0]"]
    assert (sin["status"], sin["stage"], sin["signal"]) == ("crash", "import", "SIGSEGV")
    for key, record in alone.items():
        assert (batched[key]["status"], batched[key]["stage"], batched[key]["error_signature"]) == (
            record["status"], record["stage"], record["error_signature"]), key
    assert len((tmp_path / "batched" / "results.jsonl").read_text().splitlines()) == 3


@pytest.mark.slow
def test_a_hang_inside_a_batch_is_the_hanging_case_own_timeout(tmp_path):
    # The first case opens the worker alone with a long limit (torch.export's first call can
    # take seconds on a loaded machine); the three after it are one batch under the run's 8 s.
    cases = [add_case(variant="first", timeout=120.0), add_case(), sin_case(), add_case(variant="b")]
    records = run(cases, tmp_path, "tests.converters:HANGS", timeout=8, batch=16)
    sin = records["aten.sin.default[float32-0]"]
    assert (sin["status"], sin["stage"]) == ("timeout", "import")
    assert 8 <= sin["seconds"]["total"] < 30
    for key in ("aten.add.Tensor[float32-0]", "aten.add.Tensor[float32-b]"):
        assert records[key]["status"] == "pass"


def _units(cases, jobs=1, batch=4, target="llvm"):
    pool = Pool(PoolOptions(target=target, jobs=jobs, batch=batch))
    return [[case.case_id for case, _ in unit] for unit in pool._units((case, {}) for case in cases)]


def test_only_cases_that_can_share_a_program_are_batched():
    crash = Expectation("crashes", status="crash", id="t.crash")
    at_import = Expectation("no converter", status="import_unsupported", stage="import", id="t.import")
    wrong = Expectation("wrong values", status="mismatch", stage="compare", id="t.values",
                        facets=("values",), model=_cos_of_input)
    flaky = Expectation("reads uninitialised memory", status="mismatch", stage="compare", id="t.flaky",
                        facets=("values",), model=_cos_of_input, flaky=True)
    at_compile = Expectation("fails to build", status="compile_error", stage="compile", id="t.compile",
                             match="x")
    cases = [sin_case(variant=str(i)) for i in range(6)] + [
        sin_case(variant="crash", expectations=(crash,)),
        sin_case(variant="import", expectations=(at_import,)),
        sin_case(variant="compile", expectations=(at_compile,)),
        sin_case(variant="wrong", expectations=(wrong,)),
        sin_case(variant="import2", expectations=(at_import,)),
        sin_case(variant="flaky", expectations=(flaky,)),
        sin_case(variant="timeout", timeout=5.0),
        sin_case(variant="raw", decompose=False),
        sin_case(variant="both", expectations=(at_import, wrong)),
    ]
    units = _units(cases, batch=4)
    alone = [u[0] for u in units if len(u) == 1]
    assert sorted(alone) == sorted(f"aten.sin.default[float32-{v}]"
                                   for v in ("crash", "compile", "flaky", "timeout", "raw", "both"))
    batches = [u for u in units if len(u) > 1]
    # seven whose failures are wrong outputs, at most four to a program; the two declared to
    # lack a converter in a program of their own
    assert sorted(map(sorted, batches)) == sorted(map(sorted, [
        [f"aten.sin.default[float32-{v}]" for v in ("0", "1", "2", "3")],
        [f"aten.sin.default[float32-{v}]" for v in ("4", "5", "wrong")],
        ["aten.sin.default[float32-import]", "aten.sin.default[float32-import2]"]]))
    # An expectation scoped to another target leaves the case batchable on this one.
    cuda_only = Expectation("no converter on CUDA", status="import_unsupported", stage="import",
                            id="t.cuda", targets=("cuda",))
    assert len(_units([sin_case(variant=str(i), expectations=(cuda_only,)) for i in range(3)])[0]) == 3


def test_batches_share_the_cases_among_workers_and_batch_1_turns_them_off():
    cases = [sin_case(variant=str(i)) for i in range(11)]
    assert [len(u) for u in _units(cases, jobs=2, batch=16)] == [6, 5]
    assert [len(u) for u in _units(cases, jobs=1, batch=16)] == [11]
    assert [len(u) for u in _units(cases, jobs=1, batch=1)] == [1] * 11


@pytest.mark.slow
def test_a_slice_of_the_quick_profile_gives_the_same_verdicts_batched_and_alone(tmp_path):
    """`python -m tests.batch_identity` over every quick case of the aten.c* ops (convolutions,
    concatenation, clamps, cumulative ops, comparisons ...); nightly CI runs the whole profile."""
    from tests import batch_identity

    assert batch_identity.main([str(tmp_path), "--ops", "aten.c*", "--jobs", "2"]) == 0
    lines, _ = batch_identity.differences(tmp_path / "alone", tmp_path / "batched")
    assert not lines
    records = read_results(tmp_path / "batched" / "results.jsonl")
    assert len(records) > 250
    assert sum(1 for r in records if r.get("batch")) > 150


def test_the_identity_check_holds_verdicts_and_excuses_only_undefined_values(tmp_path):
    from tests import batch_identity

    def write(directory, records):
        directory.mkdir()
        (directory / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))

    values = {"output": 0, "facet": "values", "count": 3, "got": 1.0}
    base = {"case_id": "a", "kind": "op", "op": "aten.x.default", "target": "llvm", "dtype": "float32",
            "status": "xfail", "raw_status": "mismatch", "stage": "compare",
            "error_signature": "compare: output N values", "facets": [values], "expected": {}}
    garbage = {**base, "facets": [{**values, "count": 2, "got": 5e-310}]}
    probe = {**base, "case_id": "d@probe", "status": "skip", "raw_status": "skip",
             "probe": {"outcome": "silent-wrong"}}
    flaky = {**base, "case_id": "f", "expected": {"flaky": True}}
    passed = {**base, "case_id": "f", "status": "pass", "raw_status": "pass", "stage": "compare",
              "error_signature": None, "facets": [], "expected": None}
    write(tmp_path / "one", [base, {**base, "case_id": "b"}, {**base, "case_id": "c", "expected": {"unmodelled": "x"}},
                             probe, {**probe, "case_id": "e@probe", "probe": {"outcome": "silent-correct"}},
                             flaky, {**flaky, "case_id": "g"}])
    nan_too = {"error_signature": "compare: output N nan; output N values",
               "facets": [{**values, "facet": "nan"}, values]}
    write(tmp_path / "two", [garbage,
                             {**base, "case_id": "b", "status": "mismatch"},
                             {**base, "case_id": "c", "expected": {"unmodelled": "x"}, **nan_too},
                             {**probe, **nan_too},
                             {**probe, "case_id": "e@probe", "probe": {"outcome": "silent-correct"}, **nan_too},
                             passed, {**flaky, "case_id": "g", "status": "crash", "raw_status": "crash"}])
    lines, details = batch_identity.differences(tmp_path / "one", tmp_path / "two")
    assert lines == ["b: status alone 'xfail' batched 'mismatch'",
                     "e@probe: error_signature alone 'compare: output N values' batched "
                     "'compare: output N nan; output N values'",
                     "e@probe: facet_kinds alone \"[(0, 'values')]\" batched \"[(0, 'nan'), (0, 'values')]\"",
                     "g: status alone 'xfail' batched 'crash'", "g: raw_status alone 'mismatch' batched 'crash'"]
    # A flaky case that passes in one run and fails as declared in the other is shown only.
    assert [d.split(":")[0] for d in details] == ["a", "c", "c", "d@probe", "d@probe"] + ["f"] * 4


def _sin_of_input(module, inputs):
    """A model that gives eager's own answer: its bug cannot show on this draw."""
    return torch.sin(inputs[0])


def test_a_pass_is_stale_only_where_the_model_would_have_shown_its_bug(tmp_path):
    """A known wrong value whose model equals eager on a draw leaves that draw's pass a pass (its
    record says which entries could not show); a model that differs makes the pass an xpass."""
    unshowable = Expectation("the converter computes sin", status="mismatch", stage="compare", id="t.same",
                             facets=("values",), model=_sin_of_input)
    showable = Expectation("the converter computes cos", status="mismatch", stage="compare", id="t.cos",
                           facets=("values",), model=_cos_of_input)
    for batch in (1, 16):
        records = run([sin_case(variant="same", expectations=(unshowable,)),
                       sin_case(variant="cos", expectations=(showable,))], tmp_path / f"b{batch}", batch=batch)
        same, cos = records["aten.sin.default[float32-same]"], records["aten.sin.default[float32-cos]"]
        assert (same["status"], same["not_shown"]) == ("pass", ["t.same"])
        assert same["model_checks"]["t.same"]["ok"] is True
        assert cos["status"] == "xpass" and "not_shown" not in cos

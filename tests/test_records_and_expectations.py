"""Error signatures, expectations as data, and the results file."""

import json

import pytest

from harness import expect
from harness.case import Case, Expectation, Program, Tolerance, check_unique
from harness.programs import op_program
from harness.records import ResultsError, ResultsWriter, read_results
from harness.signature import error_signature, first_line, unsupported_ops


def _case(dtype="float32", expectations=()):
    return Case(f"aten.sin.default[{dtype}-0]", "op", "aten.sin.default",
                Program(op_program, {"op": "aten.sin.default", "args": []}), dtype,
                expectations=tuple(expectations))


def test_signatures_group_equal_bugs():
    a = error_signature("compile", "InternalError: Check failed: lv12 == 0x7f3a1c (3 vs. 4) at /a/b/x.cc:10")
    b = error_signature("compile", "InternalError: Check failed: lv7 == 0x55aa00 (8 vs. 16) at /c/d/y.cc:99")
    assert a == b
    assert error_signature("run", "InternalError: Check failed: lv12") != error_signature("compile", "InternalError: Check failed: lv12")


def test_signatures_group_one_bug_across_relax_ops_and_dtypes():
    def op_error(name: str, dtype: str) -> str:
        return ("TypeError: " + first_line(
            f'ir.Op(span=None, ty=ir.Type(span=None), name="relax.{name}", description="", '
            'arguments=(ir.ArgumentInfo(name="x", type_info="Tensor", description="The input."),), '
            f'attrs_type_key="", num_inputs=1, support_level=10) requires float, given {dtype}'))

    assert op_error("sin", "int32") == "TypeError: Op(relax.sin) requires float, given int32"
    assert error_signature("import", op_error("sin", "int32")) == error_signature("import", op_error("exp", "int32"))
    assert error_signature("import", op_error("sin", "int32")) == error_signature("import", op_error("sin", "T.int64"))
    assert error_signature("import", op_error("sin", "int32")).endswith("given <dtype>")
    assert error_signature("import", "my_int32x") == "import: my_int32x"  # only whole dtype names


def test_first_line_skips_tracebacks():
    text = "Traceback (most recent call last):\n  File \"x.py\", line 1\n    ^^^\nValueError: bad"
    assert first_line(text) == "ValueError: bad"


def test_unsupported_ops_are_named_as_aten_overloads():
    msg = "Unsupported function types ['special_bessel_j0.default', 'sin.default']"
    assert unsupported_ops(msg) == ["aten.sin.default", "aten.special_bessel_j0.default"]
    assert unsupported_ops("something else") is None


def test_expectation_turns_matching_failure_into_xfail():
    e = Expectation("alpha ignored", status="mismatch", stage="compare", match="outside rtol")
    record = {"status": "mismatch", "stage": "compare", "error": "output 0: 3/3 elements outside rtol"}
    expect.apply(_case(expectations=[e]), "llvm", record)
    assert record["status"] == "xfail" and record["raw_status"] == "mismatch"
    assert record["expectation"]["reason"] == "alpha ignored"


def test_expectation_does_not_explain_a_different_failure():
    e = Expectation("alpha ignored", status="mismatch")
    record = {"status": "compile_error", "stage": "compile", "error": "boom"}
    expect.apply(_case(expectations=[e]), "llvm", record)
    assert record["status"] == "compile_error"


def test_unexpected_pass_is_xpass():
    e = Expectation("fails on llvm", targets=("llvm",))
    record = {"status": "pass", "stage": "compare", "error": None}
    expect.apply(_case(expectations=[e]), "llvm", record)
    assert record["status"] == "xpass"
    other = {"status": "pass", "stage": "compare", "error": None}
    expect.apply(_case(expectations=[e]), "cuda", other)
    assert other["status"] == "pass"


def test_compiling_without_a_gpu_makes_an_expected_compile_failure_stale():
    """CUDA without a GPU stops after the compile stage: a case expected to fail there (or
    earlier) that compiled is an unexpected pass; one expected to fail later proves nothing."""
    compiled = {"status": "skip", "stage": "run", "error": None, "skip_reason": "no-gpu"}
    at_compile = Expectation("rejected kernel", status="compile_error", stage="compile", targets=("cuda",))
    expect.apply(_case(expectations=[at_compile]), "cuda", compiled)
    assert compiled["status"] == "xpass" and compiled["expectation"]["reason"] == "rejected kernel"
    at_import = Expectation("no converter", status="import_error")
    imported = {"status": "skip", "stage": "run", "error": None, "skip_reason": "no-gpu"}
    expect.apply(_case(expectations=[at_import]), "cuda", imported)
    assert imported["status"] == "xpass"
    for later in (Expectation("wrong values", status="mismatch", stage="compare"),
                  Expectation("any failure"),
                  Expectation("sometimes", stage="compile", flaky=True)):
        record = {"status": "skip", "stage": "run", "error": None, "skip_reason": "no-gpu"}
        expect.apply(_case(expectations=[later]), "cuda", record)
        assert record["status"] == "skip", later.reason
    # an expectation of a failure at run still stands: the case may fail there, as declared
    both = {"status": "skip", "stage": "run", "error": None, "skip_reason": "no-gpu"}
    expect.apply(_case(expectations=[at_compile, Expectation("wrong values", status="mismatch")]), "cuda", both)
    assert both["status"] == "skip"
    eager = {"status": "skip", "stage": "eager", "error": None, "skip_reason": "eager: unsupported"}
    expect.apply(_case(expectations=[at_compile]), "cuda", eager)
    assert eager["status"] == "skip"


def test_a_flaky_expectation_lets_a_pass_stay_pass_and_still_explains_the_failure():
    flaky = Expectation("reads uninitialised memory", status="mismatch", flaky=True)
    passed = {"status": "pass", "stage": "compare", "error": None}
    expect.apply(_case(expectations=[flaky]), "llvm", passed)
    assert passed["status"] == "pass"
    failed = {"status": "mismatch", "stage": "compare", "error": "output 0 differs"}
    expect.apply(_case(expectations=[flaky]), "llvm", failed)
    assert failed["status"] == "xfail"
    strict = Expectation("always wrong", status="mismatch")
    both = {"status": "pass", "stage": "compare", "error": None}
    expect.apply(_case(expectations=[flaky, strict]), "llvm", both)
    assert both["status"] == "xpass"


def test_expectation_scopes_by_dtype_and_predicate():
    e = Expectation("half only", dtypes=("float16",))
    assert not e.applies(_case("float32"), "llvm")
    assert e.applies(_case("float16"), "llvm")
    p = Expectation("never", when=lambda case: False)
    assert not p.applies(_case("float16"), "llvm")


def test_expectations_and_tolerances_need_reasons():
    with pytest.raises(ValueError):
        Expectation("  ")
    with pytest.raises(ValueError):
        Tolerance(1e-2, 1e-2, "")
    with pytest.raises(ValueError):
        Expectation("x", status="pass")


def test_duplicate_case_ids_are_rejected():
    with pytest.raises(ValueError, match="duplicate"):
        check_unique([_case(), _case()])


def test_results_roundtrip_and_corrupt_line_is_named(tmp_path):
    path = tmp_path / "results.jsonl"
    record = {"case_id": "a", "kind": "op", "op": "x", "status": "pass", "stage": "compare",
              "target": "llvm", "dtype": "float32", "max_abs_err": float("nan")}
    with ResultsWriter(path) as writer:
        writer.write([record])
    (loaded,) = read_results(path)
    assert loaded["max_abs_err"] is None  # JSON has no NaN
    with open(path, "a") as f:
        f.write("{not json\n")
    with pytest.raises(ResultsError, match=r"results.jsonl:2: corrupt results line"):
        read_results(path)


def test_torn_last_line_is_dropped_only_when_resuming(tmp_path):
    path = tmp_path / "results.jsonl"
    good = {"case_id": "a", "kind": "op", "op": "x", "status": "pass", "stage": "compare",
            "target": "llvm", "dtype": "float32"}
    path.write_text(json.dumps(good) + "\n" + '{"case_id": "b", "ki')
    assert len(read_results(path, allow_torn_tail=True)) == 1
    with pytest.raises(ResultsError):
        read_results(path)


def test_unknown_status_is_rejected(tmp_path):
    path = tmp_path / "results.jsonl"
    path.write_text(json.dumps({"case_id": "a", "kind": "op", "op": "x", "status": "fine", "stage": "s",
                                "target": "llvm", "dtype": "float32"}) + "\n")
    with pytest.raises(ResultsError, match="unknown status"):
        read_results(path)


def test_a_repro_that_cannot_be_written_is_noted_and_the_run_goes_on(tmp_path, monkeypatch):
    from harness import repro, runner
    from harness.records import new_record
    from tests.helpers import sin_case

    def unpicklable(*_args, **_kwargs):
        raise TypeError("cannot pickle 'torch.memory_format' object")

    monkeypatch.setattr(repro, "write", unpicklable)
    case = sin_case()
    record = {**new_record(case, "llvm", {}), "status": "mismatch", "stage": "compare", "error": "wrong"}
    runner.finish(case, [record], "llvm", tmp_path, {"kind": "llvm"}, None)
    assert record["repro_error"] == "TypeError: cannot pickle 'torch.memory_format' object"
    assert record["repro"] is None and record["status"] == "mismatch"

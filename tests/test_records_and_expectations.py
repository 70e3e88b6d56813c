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


def test_fx_node_names_in_a_printed_graph_do_not_split_a_bug():
    first = ("AssertionError: aot_autograd expected to have an entirely functional graph, but found %detach_ : "
             "[num_users=1] = call_function[target=torch.ops.aten.detach_.default](args = (%lift_fresh_copy,))")
    second = first.replace("%detach_ ", "%detach__1 ").replace("%lift_fresh_copy,", "%lift_fresh_copy_1,")
    assert error_signature("decompose", first) == error_signature("decompose", second)
    assert "torch.ops.aten.detach_.default" in error_signature("decompose", first)


def test_the_importers_unsupported_ops_read_in_one_order():
    one = first_line("AssertionError: Unsupported function types ['_fft_c2r.default', '_conj.default']")
    other = first_line("AssertionError: Unsupported function types ['_conj.default', '_fft_c2r.default']")
    assert one == other == "AssertionError: Unsupported function types ['_conj.default', '_fft_c2r.default']"


def test_first_line_skips_tracebacks():
    text = "Traceback (most recent call last):\n  File \"x.py\", line 1\n    ^^^\nValueError: bad"
    assert first_line(text) == "ValueError: bad"


def test_unsupported_ops_are_named_as_aten_overloads():
    msg = "Unsupported function types ['special_bessel_j0.default', 'sin.default']"
    assert unsupported_ops(msg) == ["aten.sin.default", "aten.special_bessel_j0.default"]
    assert unsupported_ops("something else") is None


def _wrong(*facets, checks=None):
    """A mismatch record with these (output, facet) differences and model checks."""
    return {"status": "mismatch", "stage": "compare", "error": "wrong",
            "facets": [{"output": o, "facet": f, "expected": 1, "got": 2} for o, f in facets],
            "model_checks": checks or {}}


def test_expectation_turns_a_failure_it_explains_into_xfail():
    e = Expectation("int stays int", status="mismatch", stage="compare", facets=("dtype",), id="p.div")
    record = _wrong((0, "dtype"))
    expect.apply(_case(expectations=[e]), "llvm", record)
    assert record["status"] == "xfail" and record["raw_status"] == "mismatch"
    assert record["expectation"] == "p.div" and record["expected"]["reason"] == "int stays int"


def test_wrong_values_are_explained_only_where_tvm_matches_the_model():
    def model(module, inputs):
        return []

    e = Expectation("alpha ignored", status="mismatch", stage="compare", facets=("values",), model=model, id="p.add")
    matched = _wrong((0, "values"), checks={"p.add": {"ok": True, "message": None}})
    expect.apply(_case(expectations=[e]), "llvm", matched)
    assert matched["status"] == "xfail"
    beyond = _wrong((0, "values"), checks={"p.add": {"ok": False, "message": "values 1/3 differ"}})
    expect.apply(_case(expectations=[e]), "llvm", beyond)
    assert beyond["status"] == "mismatch" and beyond["partly_expected"] == "p.add"
    assert beyond["unexplained"][0]["facet"] == "values" and beyond["unexplained"][0]["model"] == "values 1/3 differ"
    unchecked = _wrong((0, "values"))
    expect.apply(_case(expectations=[e]), "llvm", unchecked)
    assert unchecked["status"] == "mismatch"


def test_a_facet_the_expectation_does_not_name_is_a_new_bug():
    e = Expectation("keeps dtype", status="mismatch", stage="compare", facets=("dtype[1]",), id="p.x")
    record = _wrong((1, "dtype"), (0, "dtype"))
    expect.apply(_case(expectations=[e]), "llvm", record)
    assert record["status"] == "mismatch"
    assert record["partly_expected"] == "p.x" and [f["output"] for f in record["unexplained"]] == [0]
    only = _wrong((1, "dtype"))
    expect.apply(_case(expectations=[e]), "llvm", only)
    assert only["status"] == "xfail"


def test_an_expectation_without_facets_explains_no_wrong_output():
    e = Expectation("vague", status="mismatch", stage="compare", match="wrong")
    record = _wrong((0, "values"))
    expect.apply(_case(expectations=[e]), "llvm", record)
    assert record["status"] == "mismatch" and "partly_expected" not in record


def test_unmodelled_values_are_explained_with_their_reason():
    e = Expectation("reads uninitialised memory", status="mismatch", stage="compare", facets=("values",),
                    unmodelled="the buffer holds whatever the allocator left", id="r.any")
    record = _wrong((0, "values"))
    expect.apply(_case(expectations=[e]), "llvm", record)
    assert record["status"] == "xfail" and record["expected"]["unmodelled"]


def test_wrong_values_need_a_model_or_a_reason_for_none():
    with pytest.raises(ValueError, match="model"):
        Expectation("x", status="mismatch", stage="compare", facets=("values",))
    with pytest.raises(ValueError, match="model"):
        Expectation("x", status="mismatch", stage="compare", facets=("shape",))
    with pytest.raises(ValueError, match="facet"):
        Expectation("x", status="mismatch", stage="compare", facets=("colour",))


def test_expectation_does_not_explain_a_different_failure():
    e = Expectation("alpha ignored", status="mismatch")
    record = {"status": "compile_error", "stage": "compile", "error": "boom"}
    expect.apply(_case(expectations=[e]), "llvm", record)
    assert record["status"] == "compile_error"


@pytest.mark.parametrize("record", [
    {"status": "mismatch", "stage": "run", "error": "output 0: 3/3 elements outside rtol"},  # another stage
    {"status": "mismatch", "stage": "compare", "error": "output 0: dtype float32 != expected float64"},  # another message
    {"status": "run_error", "stage": "compare", "error": "output 0: 3/3 elements outside rtol"},  # another status
])
def test_a_failure_unlike_the_expectation_stays_a_failure(record):
    e = Expectation("alpha ignored", status="mismatch", stage="compare", match="outside rtol")
    raw = record["status"]
    expect.apply(_case(expectations=[e]), "llvm", record)
    assert (record["status"], record["raw_status"], record.get("expectation")) == (raw, raw, None)


def test_a_sizes_scope_explains_only_the_sizes_inside_it():
    e = Expectation("wrong from b=2 on", status="mismatch", sizes={"b": (2, 16)})
    case = _case(expectations=[e])
    inside = {"status": "mismatch", "stage": "compare", "error": "wrong", "sizes": {"b": 4}}
    below = {"status": "mismatch", "stage": "compare", "error": "wrong", "sizes": {"b": 1}}
    passes_inside = {"status": "pass", "stage": "compare", "error": None, "sizes": {"b": 16}}
    passes_below = {"status": "pass", "stage": "compare", "error": None, "sizes": {"b": 1}}
    for record in (inside, below, passes_inside, passes_below):
        expect.apply(case, "llvm", record)
    assert [r["status"] for r in (inside, below, passes_inside, passes_below)] == ["xfail", "mismatch", "xpass", "pass"]


def test_probes_are_findings_no_expectation_turns():
    e = Expectation("always wrong", status="mismatch")
    case = _case(expectations=[e])
    probes = [{"status": status, "stage": "compare", "error": "wrong" if status != "pass" else None,
               "probe": {"outcome": "silent-wrong"}} for status in ("pass", "mismatch", "skip")]
    for record in probes:
        expect.apply(case, "llvm", record)
        assert record["status"] == record["raw_status"] and record.get("expectation") is None


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
    assert compiled["status"] == "xpass" and compiled["expected"]["reason"] == "rejected kernel"
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


def test_a_pass_whose_graph_never_reaches_the_missing_op_is_not_stale():
    """An import_unsupported entry names the ops the importer lacks (its pattern); a pass whose
    graph holds none of them says nothing about those converters, one that holds them does."""
    from harness import expect
    from harness.case import Expectation
    from tests.helpers import sin_case

    lacking = Expectation("no converter for sort.stable", status="import_unsupported", stage="import",
                          match=r"(?=.*'sort\.stable')", id="t.sort")
    case = sin_case(expectations=(lacking,))
    base = {"status": "pass", "stage": "compare", "dtype": "float32", "target": "llvm", "kind": "op",
            "frontend": "export", "facets": []}
    elsewhere = expect.apply(case, "llvm", {**base, "aten_ops": ["aten.sin.default"]})
    assert elsewhere["status"] == "pass" and elsewhere["not_shown"] == ["t.sort"]
    reached = expect.apply(case, "llvm", {**base, "aten_ops": ["aten.sort.stable", "aten.sin.default"]})
    assert reached["status"] == "xpass"

"""The engine catches real faults: real TVM, with a doctored convert map for `sin`.

Each run also carries an `add` case the doctored map does not touch: it must still pass,
so a fault is pinned to the case that has it.
"""

import pytest
import torch

from tests.helpers import add_case, op_case, run, sin_case


def test_wrong_function_is_a_mismatch(tmp_path):
    records = run([sin_case(), add_case()], tmp_path, "tests.converters:WRONG")
    sin = records["aten.sin.default[float32-0]"]
    assert sin["status"] == "mismatch"
    assert sin["stage"] == "compare"
    assert sin["max_abs_err"] > 0.1
    assert "outside rtol" in sin["error"]
    assert records["aten.add.Tensor[float32-0]"]["status"] == "pass"


def test_an_error_just_past_the_tolerance_is_a_mismatch_and_just_within_a_pass(tmp_path):
    x = sin_case().program.kwargs["args"][0]
    cos = op_case("aten.cos.default", [x])
    records = run([sin_case(), cos], tmp_path, "tests.converters:JUST_OUTSIDE_AND_INSIDE")
    outside, inside = records["aten.sin.default[float32-0]"], records["aten.cos.default[float32-0]"]
    assert (outside["status"], outside["rtol"], outside["atol"]) == ("mismatch", 1.3e-6, 1e-5)
    assert outside["max_rel_err"] == pytest.approx(2e-5, rel=0.05)
    assert (inside["status"], inside["rtol"], inside["atol"]) == ("pass", 1.3e-6, 1e-5)
    assert inside["max_rel_err"] == pytest.approx(0.5e-5, rel=0.1)


def test_removed_converter_is_import_unsupported_naming_the_op(tmp_path):
    records = run([sin_case()], tmp_path, "tests.converters:REMOVED")
    sin = records["aten.sin.default[float32-0]"]
    assert sin["status"] == "import_unsupported"
    assert sin["stage"] == "import"
    assert sin["unsupported_ops"] == ["aten.sin.default"]


def test_raising_converter_is_an_import_error(tmp_path):
    records = run([sin_case(), add_case()], tmp_path, "tests.converters:RAISES")
    sin = records["aten.sin.default[float32-0]"]
    assert sin["status"] == "import_error"
    assert sin["stage"] == "import"
    assert "converter exploded on purpose" in sin["error"]
    assert sin["error_signature"].startswith("import: RuntimeError")
    assert records["aten.add.Tensor[float32-0]"]["status"] == "pass"


def test_segfault_is_a_crash_and_the_next_case_still_runs(tmp_path):
    cases = [sin_case(variant="a"), add_case(), sin_case(variant="b")]
    records = run(cases, tmp_path, "tests.converters:SEGFAULTS")
    for case_id in ("aten.sin.default[float32-a]", "aten.sin.default[float32-b]"):
        assert records[case_id]["status"] == "crash"
        assert records[case_id]["signal"] == "SIGSEGV"
        assert records[case_id]["stage"] == "import"
    assert records["aten.add.Tensor[float32-0]"]["status"] == "pass"
    lines = (tmp_path / "results.jsonl").read_text().splitlines()
    assert len(lines) == 3


def test_eager_dying_is_a_skip_with_its_signal_not_tvms_crash(tmp_path):
    from harness.case import Case, Program
    from tests import factories

    dies = Case("test.eager_dies[float32-0]", "op", "aten.sin.default", Program(factories.eager_segfault_program, {}),
                "float32")
    records = run([dies, add_case()], tmp_path)
    record = records["test.eager_dies[float32-0]"]
    assert (record["status"], record["stage"], record["signal"]) == ("skip", "eager", "SIGSEGV")
    assert record["skip_reason"] == "eager: worker died (SIGSEGV)"
    assert records["aten.add.Tensor[float32-0]"]["status"] == "pass"


def test_abort_is_a_crash_with_its_signal(tmp_path):
    records = run([sin_case(), add_case()], tmp_path, "tests.converters:ABORTS")
    assert records["aten.sin.default[float32-0]"]["status"] == "crash"
    assert records["aten.sin.default[float32-0]"]["signal"] == "SIGABRT"
    assert records["aten.add.Tensor[float32-0]"]["status"] == "pass"


def test_hang_is_a_timeout_and_the_next_case_still_runs(tmp_path):
    # The run's limit is 8 s; a worker's first torch.export alone can take longer on a loaded
    # machine, so the cases that open a worker (before the hang, and after it) get their own.
    cases = [add_case(variant="first", timeout=120.0), sin_case(), add_case(timeout=120.0)]
    records = run(cases, tmp_path, "tests.converters:HANGS", timeout=8)
    sin = records["aten.sin.default[float32-0]"]
    assert sin["status"] == "timeout"
    assert sin["stage"] == "import"
    assert 8 <= sin["seconds"]["total"] < 30
    assert records["aten.add.Tensor[float32-0]"]["status"] == "pass"


def test_float64_program_answered_in_float32_is_a_mismatch(tmp_path):
    records = run([sin_case(torch.float64)], tmp_path, "tests.converters:FLOAT32")
    sin = records["aten.sin.default[float64-0]"]
    assert sin["status"] == "mismatch"
    assert "dtype float32 != expected float64" in sin["error"]


def test_unloadable_convert_map_stops_the_run(tmp_path):
    from harness.pool import PoolError

    with pytest.raises(PoolError, match="not a dict"):
        run([sin_case()], tmp_path, "tests.converters:NOT_A_DICT")


def cos_instead_of_sin(module, inputs):
    """The model of the WRONG converter's bug: TVM computes cos."""
    return torch.cos(inputs[0])


def _known(**fields):
    from harness.case import Expectation

    return Expectation("the converter computes cos", status="mismatch", stage="compare", id="t.cos", **fields)


def test_a_known_wrong_value_is_xfail_only_while_tvm_matches_its_model(tmp_path):
    known = _known(facets=("values",), model=cos_instead_of_sin)
    plain = run([sin_case(expectations=(known,))], tmp_path / "a", "tests.converters:WRONG")
    assert plain["aten.sin.default[float32-0]"]["status"] == "xfail"
    second = run([sin_case(expectations=(known,))], tmp_path / "b", "tests.converters:WRONG_PLUS_ONE")
    record = second["aten.sin.default[float32-0]"]
    assert record["status"] == "mismatch" and record["partly_expected"] == "t.cos"
    assert record["model_checks"]["t.cos"]["ok"] is False
    assert [f["facet"] for f in record["unexplained"]] == ["values"]


def test_a_known_wrong_dtype_does_not_absorb_wrong_values(tmp_path):
    known = _known(facets=("dtype",))
    plain = run([sin_case(torch.float64, expectations=(known,))], tmp_path / "a", "tests.converters:FLOAT32")
    assert plain["aten.sin.default[float64-0]"]["status"] == "xfail"
    second = run([sin_case(torch.float64, expectations=(known,))], tmp_path / "b",
                 "tests.converters:FLOAT32_PLUS_ONE")
    record = second["aten.sin.default[float64-0]"]
    assert record["status"] == "mismatch"
    assert [(f["facet"], f["output"]) for f in record["facets"]] == [("dtype", 0), ("values", 0)]
    assert [f["facet"] for f in record["unexplained"]] == ["values"]

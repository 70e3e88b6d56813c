"""A case that declares an export failure is exported from its tracing build (Case.tracing) before
its reference is built: a detector that fails at export costs seconds, not its calibration."""

import copy

import pytest
import torch

from harness.case import Case, Expectation, Program
from harness.records import new_record
from harness.stages import Session, run_case
from harness.targets import resolve
from models import build
from models.cases import model_case
from models.zoo import ROWS

BUILT: list[str] = []


class DataDependent(torch.nn.Module):
    def forward(self, x):
        return x * 2 if x.sum() > 0 else x  # torch.export cannot guard on a value


class Plain(torch.nn.Module):
    def forward(self, x):
        return x * 2


def data_dependent():
    return DataDependent(), (torch.ones(3),)


def plain():
    return Plain(), (torch.ones(3),)


def reference(module_type: str):
    BUILT.append(module_type)
    return (DataDependent() if module_type == "data_dependent" else Plain()), (torch.ones(3),)


def unbuildable():
    raise AssertionError("the tracing build was used for a case that declares no export failure")


EXPORT_FAILS = Expectation(reason="declared: export cannot guard on a value", status="export_error",
                           stage="export", match="data-dependent|GuardOnDataDependent")


def _run(case: Case) -> dict:
    BUILT.clear()
    (record,) = run_case(case, Session(resolve("llvm"), None), new_record(case, "llvm", {}))
    return record


def _case(program: Program, tracing: Program | None, expectations=(EXPORT_FAILS,)) -> Case:
    return Case("toy[float32-0]", "model", "toy", program, "float32", expectations=expectations, tracing=tracing)


def test_a_declared_export_failure_is_met_without_building_the_reference():
    record = _run(_case(Program(reference, {"module_type": "data_dependent"}), Program(data_dependent)))
    assert (record["status"], record["stage"]) == ("export_error", "export"), record
    assert BUILT == []
    assert record["input_shapes"] == [[3]] and set(record["seconds"]) == {"eager", "export", "total"}


def test_an_export_that_succeeds_runs_the_case_in_full():
    record = _run(_case(Program(reference, {"module_type": "plain"}), Program(plain)))
    assert record["status"] == "pass", record
    assert BUILT == ["plain"]


def test_without_a_declared_export_failure_the_tracing_build_is_not_used():
    record = _run(_case(Program(reference, {"module_type": "plain"}), Program(unbuildable), expectations=()))
    assert record["status"] == "pass", record
    assert BUILT == ["plain"]


def _export(program: Program):
    module, inputs = program.build()
    return module, torch.export.export(module, copy.deepcopy(inputs))


def test_the_uncalibrated_model_exports_the_same_graph_with_other_weights():
    case = model_case(ROWS["mobilenet_v3_small"], seed=0)
    calibrated, full = _export(case.program)
    uncalibrated, traced = _export(case.tracing)
    assert traced.graph_module.code == full.graph_module.code
    weights = [name for name, p in calibrated.state_dict().items()
               if p.is_floating_point() and not torch.equal(p, uncalibrated.state_dict()[name])]
    assert weights  # the calibration pass changed them; the graph did not change with them


def test_a_detector_fails_at_export_the_same_way_calibrated_or_not():
    case = model_case(ROWS["fasterrcnn_mobilenet_v3_large_320_fpn"], seed=0)
    errors = []
    for program in (case.program, case.tracing):
        with pytest.raises(Exception) as failure:  # noqa: PT011 - the message is what is compared
            _export(program)
        errors.append(f"{type(failure.value).__name__}: {str(failure.value).splitlines()[0]}")
    assert errors[0] == errors[1] and "data-dependent" in errors[0]


def test_a_quantised_model_has_no_tracing_build():
    assert model_case(ROWS["quantized_resnet18"], seed=0).tracing is None
    with pytest.raises(ValueError, match="no uncalibrated form"):
        build.build_model("quantized_resnet18", height=64, width=64, calibrated=False)

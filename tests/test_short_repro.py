"""Short repros: the failing case in one screen, standalone, and reproducing the recorded status.

The sample is real failures of the pinned TVM in every family (op rows, OpInfo, dynamic programs,
models), run through the harness; the test first asserts that each failed, so it cannot pass
on an empty sample, then runs each short repro alone and compares its last line with the record.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from harness import short_repro, sources
from harness.calls import forward_source
from harness.case import Case, DynamicSpec, wants_repro
from harness.literals import Unwritable
from harness.programs import op_program
from harness.records import new_record
from harness.short_verify import family
from tests.helpers import op_case, run, sin_case

# Ids of cases that fail on the pinned TVM, by family (each test asserts that they still do).
OPS = ["aten.elu.default[bfloat16-alpha-input_scale-0]",  # wrong values, bfloat16, transposed layout
       "aten.sin.default[uint8-0]",  # import_error, an empty input
       "aten.max.dim[bool-dim-nokeepdim-0]"]  # run_error
OPINFO = ["opinfo.linalg.lu_factor[float32-s0]"]  # import_error
DYNAMIC = ["dyn.select.int[float32-b-n-last-0]"]  # wrong values at some sizes
MODEL = "quantized_shufflenet_v2_x0_5"  # eager-mode quantized modules cannot be exported


def _cases() -> list[Case]:
    from models.cases import model_case
    from models.zoo import ROWS

    wanted = OPS + OPINFO + DYNAMIC
    loaded = {c.case_id: c for c in sources.load(["op", "opinfo"], "quick", 0, [w.split("[")[0] for w in wanted])}
    return [loaded[w] for w in wanted] + [model_case(ROWS[MODEL], seed=5)]


@pytest.fixture(scope="module")
def failures(tmp_path_factory):
    """The sample's failing records, one per case (a dynamic program's first failing size)."""
    out = tmp_path_factory.mktemp("short")
    records = run(_cases(), out)
    chosen = {}
    for record in records.values():
        key = record.get("dynamic_case") or record["case_id"]
        if wants_repro(record) and key not in chosen:
            chosen[key] = record
    return out, chosen


def _status_of(script: str, cwd: Path) -> tuple[str, int, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, script], capture_output=True, text=True, timeout=600, cwd=cwd, env=env)
    lines = done.stdout.strip().splitlines()
    return (lines[-1] if lines else ""), done.returncode, done.stdout[-2000:] + done.stderr[-3000:]


@pytest.mark.slow
def test_short_repros_of_every_family_end_with_the_recorded_status(failures):
    out, chosen = failures
    missing = set(OPS + OPINFO + DYNAMIC) - set(chosen)
    assert not missing, f"sampled cases no longer fail: {sorted(missing)}"
    assert any(r["op"] == MODEL for r in chosen.values()), "the sampled model no longer fails"
    assert {family(r) for r in chosen.values()} == {"op rows", "OpInfo", "dynamic", "models"}
    for key, record in chosen.items():
        assert record["short_repro"], f"{key}: {record.get('short_repro_error')}"
        status, code, output = _status_of(record["short_repro"], out)
        assert status == f"status: {record['raw_status']}", f"{key}: {output}"
        assert code == 1, key


def test_no_short_repro_carries_serialised_data_or_the_harness(failures):
    out, chosen = failures
    scripts = sorted((out / "repro").rglob("*.short.py"))
    assert len(scripts) >= len(chosen)
    for script in scripts:
        text = script.read_text()
        assert "base64" not in text and "torch.load" not in text and "pickle" not in text, script
        assert not re.search(r"^\s*(from|import)\s+(harness|opsuite|models|reports)\b", text, re.M), script
        assert text.splitlines()[-1].startswith("sys.exit("), script


def test_the_full_repro_names_its_short_form(failures):
    _, chosen = failures
    for record in chosen.values():
        full = Path(record["repro"]).read_text()
        assert f"short form: {Path(record['short_repro']).name}" in full


def test_a_single_op_short_repro_reads_as_the_call():
    record = {**new_record(ELU, "llvm", {}), "status": "mismatch", "raw_status": "mismatch", "stage": "compare",
              "error": "output 0: wrong"}
    text = short_repro.render(ELU, record, {"kind": "llvm"}, None)
    assert "torch.ops.aten.elu.default(x, alpha=1.0, scale=1.0, input_scale=3.0)" in text
    assert "x = torch.tensor([[1.5, -0.0], [nan, -2.25]], dtype=torch.float16)" in text
    assert "nan = float('nan')" in text and "status: " in text
    assert len(text.splitlines()) <= 48, text


ELU = op_case("aten.elu.default", [torch.tensor([[1.5, -0.0], [float("nan"), -2.25]], dtype=torch.float16),
                                   1.0, 1.0, 3.0], dtype="float16")


def _spelled(module, inputs):
    return forward_source(module, inputs)[1]


def test_calls_are_spelled_as_a_user_writes_them():
    x, y = torch.randn(2, 3), torch.randn(3)
    module, inputs = op_program("aten.add.Tensor", [x, y], {"alpha": 2})
    assert _spelled(module, inputs) == ["return torch.ops.aten.add.Tensor(x, y, alpha=2)"]
    module, inputs = op_program("aten.cat.default", [[x, x], 1])
    assert _spelled(module, inputs) == ["return torch.ops.aten.cat.default([x, y], dim=1)"]

    class Chain(torch.nn.Module):
        def forward(self, a, b):
            c = torch.nn.functional.gelu(a)
            return (c * 2 + b).mT, a.sum(dim=0)

    assert _spelled(Chain(), (x, torch.randn(2, 3))) == [
        "t0 = torch.nn.functional.gelu(x)", "t1 = t0.mul(2)", "t2 = t1.add(y)", "t3 = t2.mT", "t4 = x.sum(dim=0)",
        "return (t3, t4)"]
    with pytest.raises(Unwritable, match="weights"):
        forward_source(torch.nn.Linear(3, 2), (x,))


def _record(case, **fields):
    return {**new_record(case, "llvm", {}), "status": "mismatch", "raw_status": "mismatch", "stage": "compare",
            "error": "output 0: wrong", **fields}


def test_what_the_short_form_cannot_express_is_refused_with_the_reason(tmp_path):
    case = sin_case()
    with pytest.raises(Unwritable, match="convert map tests.converters:WRONG"):
        short_repro.render(case, _record(case), {"kind": "llvm"}, "tests.converters:WRONG")
    dynamic = Case("dyn.x[float32-0]", "dynamic", "aten.sin.default", case.program, "float32",
                   dynamic=DynamicSpec(dims={"b": (1, 8)}, shapes=({0: "b"},), sizes=({},)))
    with pytest.raises(Unwritable, match="symbolic check"):
        short_repro.render(dynamic, _record(dynamic, stage="symbolic", status="import_error"), {"kind": "llvm"}, None)
    from opsuite.standalone.properties import non_negative

    random = Case("aten.x.default[float32-0]", "op", "aten.sin.default", case.program, "float32", check=non_negative)
    with pytest.raises(Unwritable, match="property check"):
        short_repro.render(random, _record(random), {"kind": "llvm"}, None)
    # in a run, the record says why and the full repro says it is the only one
    from harness.runner import finish

    record = _record(case)
    finish(random, [record], "llvm", tmp_path, {"kind": "llvm"}, None)
    assert record["short_repro"] is None and "property check" in record["short_repro_error"]
    assert "this is the only repro (a property check" in Path(record["repro"]).read_text()


def test_a_dynamic_short_repro_declares_its_dims_and_runs_at_the_recorded_size():
    from opsuite import dynamic

    (case,) = [c for c in dynamic.cases("quick", 0) if c.case_id == "dyn.cat.default[float32-b-2b-0]"]
    record = _record(case, case_id=f"{case.case_id}@b=3", sizes={"b": 3}, dynamic_case=case.case_id)
    text = short_repro.render(case, record, {"kind": "llvm"}, None)
    assert "b = torch.export.Dim('b', min=1, max=32)" in text
    assert "dynamic_shapes = ({0: b}, {0: 2*b})" in text
    assert "torch.export.export(model, example, dynamic_shapes=dynamic_shapes)" in text
    scope = {}
    exec(text.split("\ndef leaves")[0], scope)  # noqa: S102 - the inputs and the program, not the run
    assert [tuple(t.shape) for t in scope["inputs"]] == [(3, 3), (6, 3)]
    assert [tuple(t.shape) for t in scope["example"]][0][0] not in (0, 1)


def test_a_model_short_repro_rebuilds_the_very_weights_and_inputs():
    from models.build import build_model
    from models.cases import model_case
    from models.zoo import ROWS

    case = model_case(ROWS["squeezenet1_1"], seed=3)
    text = short_repro.render(case, _record(case, status="import_error", raw_status="import_error", stage="import"),
                              {"kind": "llvm"}, None)
    assert "model = torchvision.models.get_model('squeezenet1_1', weights=None)" in text
    scope = {}
    exec(text.split("\ndef leaves")[0], scope)  # noqa: S102 - the model and inputs, not the run
    model, inputs = build_model(**case.program.kwargs)
    theirs, ours = model.state_dict(), scope["model"].state_dict()
    assert theirs.keys() == ours.keys() and all(torch.equal(theirs[k], ours[k]) for k in theirs)
    assert all(torch.equal(a, b) for a, b in zip(inputs, scope["inputs"], strict=True))


def test_a_cuda_short_repro_runs_on_the_gpu_or_says_it_has_none():
    record = _record(ELU, target="cuda")
    text = short_repro.render(ELU, record, {"kind": "cuda", "arch": "sm_90"}, None)
    assert "tvm.compile(mod, target=tvm.target.Target({'kind': 'cuda', 'arch': 'sm_90'}))" in text
    assert 'status = "skip"; assert tvm.cuda(0).exist' in text
    assert "vm = tvm.relax.VirtualMachine(ex, tvm.cuda(0))" in text and ".numpy(), tvm.cuda(0))" in text

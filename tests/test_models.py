"""The model zoo: complete against TorchVision, stable ids, honest weights, one real run, repros."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torchvision

from harness.case import check_unique
from harness.compare import degenerate_kind
from models import build, zoo
from models.cases import NOISE_MARGIN, TIERS, cases, model_case, tolerance
from tests.helpers import run


def test_every_listed_model_has_exactly_one_row():
    listed = set(torchvision.models.list_models())
    assert listed - set(zoo.ROWS) == set(), "models without a zoo row"
    assert set(zoo.ROWS) - listed == set(), "rows for models TorchVision does not list"
    per_task = {task: len(torchvision.models.list_models(module=m)) for task, m in build.TASK_MODULES.items()}
    assert sum(per_task.values()) == len(listed), "a model listed under no task module"
    assert all(build.task_of(name) in per_task for name in listed)


def test_nightly_has_every_model_once_with_unique_readable_ids():
    nightly = cases("nightly", 0)
    check_unique(nightly)
    models = [c for c in nightly if c.kind == "model"]
    assert sorted(c.op for c in models) == sorted(zoo.ROWS)
    assert all(c.case_id.startswith(f"{c.op}[float32-") for c in nightly)
    assert {c.op for c in nightly if c.kind == "dynamic"} == set(zoo.DYNAMIC_BATCH)
    assert [c.case_id for c in cases("nightly", 7)] == [c.case_id for c in nightly], "ids depend on the seed"
    resnet = next(c for c in models if c.op == "resnet18")
    assert resnet.case_id == "resnet18[float32-64x64]"


def test_every_case_has_a_reasoned_tolerance_limit_and_input():
    for case in cases("nightly", 0):
        assert case.tolerance is not None and case.tolerance.reason
        assert case.timeout and case.timeout > 0
        assert case.meta["input_reason"]
        for expectation in case.expectations:
            assert expectation.reason and (expectation.status or expectation.stage)


def test_known_failures_of_the_zoo_come_from_models_toml_and_name_exactly_their_models():
    from opsuite.expectations import entries

    nightly = cases("nightly", 0)
    zoo_entries = [e for e in entries.load() if e["_file"].name == "models.toml"]
    assert zoo_entries
    for entry in zoo_entries:
        named = [c for c in nightly if entries.entry_matches(entry, c)]
        assert named, f"models.toml: {entry['op']} names no case"
        reason = entries.to_expectation(entry).reason
        assert all(any(x.reason == reason for x in c.expectations) for c in named)
    # An entry scoped to the dynamic-batch program leaves the static model alone, and back.
    static, dynamic = (next(c for c in nightly if c.op == "efficientnet_b0" and c.kind == kind)
                       for kind in ("model", "dynamic"))
    assert not static.expectations and [x.targets for x in dynamic.expectations] == [("cuda",)]
    # Every model case the entries do not name carries none.
    named = {c.case_id for e in zoo_entries for c in nightly if entries.entry_matches(e, c)}
    assert all(not c.expectations for c in nightly if c.case_id not in named)


def test_quick_is_a_handful_covering_conv_depthwise_and_attention():
    quick = cases("quick", 0)
    assert 3 <= len(quick) <= 6
    assert {"resnet18", "mobilenet_v3_small", "vit_b_32"} <= {c.op for c in quick}
    assert any(c.kind == "dynamic" for c in quick)


def test_tolerance_tier_follows_the_measured_noise():
    assert tolerance(zoo.ModelRow("resnet18", 64, "test")).rtol == 1e-4
    for row in zoo.ROWS.values():
        if row.tolerance is None and row.noise is not None:
            assert tolerance(row).rtol >= min(TIERS[-1], NOISE_MARGIN * row.noise), row.name
    assert tolerance(zoo.ROWS["resnet152"]).rtol > tolerance(zoo.ROWS["resnet18"]).rtol


@pytest.mark.parametrize("name", ["vit_b_32", "convnext_tiny", "efficientnet_b0", "swin_v2_t", "maxvit_t",
                                  "raft_small", "fasterrcnn_mobilenet_v3_large_fpn", "deeplabv3_resnet50"])
def test_every_parameter_and_statistic_is_drawn_again(name):
    """Nothing TorchVision initialised survives, except buffers that are architecture."""
    task = build.task_of(name)
    torch.manual_seed(0)
    model = build.construct(name, task)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    build.reinitialise(model, seed=0)
    structural = set(build.structural_buffers(model))
    for key, value in model.state_dict().items():
        if not value.is_floating_point() or key in structural:
            continue
        assert not torch.equal(value, before[key]), f"{name}: {key} kept TorchVision's value"
    for key in structural:  # index and coordinate tables: learned state never lives there
        assert "relative_position" in key or "coords" in key or "index" in key, key


def _output(model, inputs):
    with torch.no_grad():
        return build._floats(model(*inputs))


def test_weights_are_healthy_and_deterministic():
    model, inputs = build.build_model("mobilenet_v3_small", seed=0, height=64, width=64)
    first = _output(model, inputs)
    assert build.health(first) is None and degenerate_kind(first) is None
    assert 0.1 < float(first[0].std()) < 10.0, "calibration keeps the logits at unit scale"
    again, inputs_again = build.build_model("mobilenet_v3_small", seed=0, height=64, width=64)
    assert torch.equal(inputs[0], inputs_again[0])
    assert all(torch.equal(a, b) for a, b in zip(first, _output(again, inputs_again), strict=True))
    other, other_inputs = build.build_model("mobilenet_v3_small", seed=1, height=64, width=64)
    assert not torch.equal(inputs[0], other_inputs[0])
    assert not torch.allclose(first[0], _output(other, inputs)[0])


def test_zero_initialised_heads_get_real_outputs():
    """TorchVision's vit head is all zeros: an allclose would pass whatever TVM computed."""
    torch.manual_seed(0)
    raw = build.construct("vit_b_32", "classification")
    inputs = build.make_inputs("classification", 0, 1, 224, 224, 8)
    assert degenerate_kind(_output(raw, inputs)) == "all-zero"
    model, inputs = build.build_model("vit_b_32", seed=0, batch=1)
    assert build.health(_output(model, inputs)) is None


def test_batch_is_a_prefix_and_does_not_change_the_weights():
    one, (x1,) = build.build_model("squeezenet1_1", seed=3, batch=1, height=64, width=64)
    four, (x4,) = build.build_model("squeezenet1_1", seed=3, batch=4, height=64, width=64)
    assert torch.equal(x4[:1], x1)
    assert all(torch.equal(a, b) for a, b in zip(one.state_dict().values(), four.state_dict().values(),
                                                 strict=True))


def test_a_degenerate_reference_refuses_to_build():
    assert "constant" in build.health([torch.full((4, 4), 3.0)])
    assert "~0" in build.health([torch.full((4, 4), 1e-9)])
    assert "non-finite" in build.health([torch.tensor([1.0, float("nan")])])


def test_quick_model_end_to_end_with_meaningful_metrics(tmp_path):
    case = model_case(zoo.ROWS["squeezenet1_1"], seed=0)
    (record,) = run([case], tmp_path).values()
    assert record["status"] == "pass", record["error"]
    assert record["kind"] == "model" and record["op"] == "squeezenet1_1"
    assert record["degenerate"] is None
    assert record["cosine"] > 0.9999 and record["rel_l2_err"] < 1e-4
    assert record["input_shapes"] == [[1, 3, 64, 64]]
    assert {"aten.convolution.default", "aten.relu.default"} <= set(record["aten_ops"])
    # A model ships by default, and the fresh process's run is its run (harness.deploy).
    assert record["deploy"]["ran"] is True and "run" not in record["seconds"]
    assert {"eager", "export", "import", "compile", "deploy", "compare"} <= set(record["seconds"])
    assert all(v > 0 for v in record["peak_rss_mb"].values())


# Removes the importer's max-pool converter: squeezenet then fails to import, deterministically.
NO_MAX_POOL = {"max_pool2d_with_indices.default": None, "max_pool2d.default": None}


@pytest.mark.slow
@pytest.mark.parametrize("name, convert_map, status", [
    # a deliberately missing converter: the importer fails, whatever TVM's release
    ("squeezenet1_1", "tests.test_models:NO_MAX_POOL", "import_unsupported"),
    # a real failure: eager-mode quantized modules cannot be exported
    ("quantized_shufflenet_v2_x0_5", None, "export_error"),
])
def test_repro_rebuilds_the_model_and_reproduces_the_status(tmp_path, name, convert_map, status):
    case = model_case(zoo.ROWS[name], seed=5)
    (record,) = run([case], tmp_path, convert_map=convert_map).values()
    assert record["raw_status"] == status, record["error"]
    script = Path(record["repro"])
    source = script.read_text()
    # the model is rebuilt from its name and seed by the embedded factory, not shipped as weights
    assert "def build_model(" in source and len(source) < 200_000
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600,
                          cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(root)})
    assert done.stdout.strip().splitlines()[-1] == f"status: {status}", done.stdout + done.stderr


def _record(case, target, **fields):
    from harness.records import new_record

    record = new_record(case, target, {"torch_version": "t", "tvm_version": "v"})
    record.update(raw_status=fields.get("status"), **fields)
    return record


def test_table_reads_verdicts_per_stage_and_the_cuda_compile_verdict(tmp_path):
    from harness.records import ResultsWriter
    from reports import zoo_report as table

    resnet, raft = model_case(zoo.ROWS["resnet18"], 0), model_case(zoo.ROWS["raft_small"], 0)
    cpu = [_record(resnet, "llvm", status="pass", stage="compare", rel_l2_err=4.6e-6, cosine=1.0,
                   seconds={"total": 6.2}, peak_rss_mb={"compile": 900.0, "run": 1000.0}),
           _record(raft, "llvm", status="xfail", stage="import", error="ValueError: channels")]
    cpu[1]["raw_status"] = "import_error"
    cuda = [_record(resnet, "cuda", status="skip", stage="run", skip_reason="no-gpu")]
    for name, records in (("cpu", cpu), ("cuda", cuda)):
        with ResultsWriter(tmp_path / name / "results.jsonl") as writer:
            writer.write(records)
    text = table.render([tmp_path / "cpu", tmp_path / "cuda"])
    (resnet_row,) = [line for line in text.splitlines() if line.startswith("| resnet18 ")]
    assert "| ok | ok | ok | ok | ok | ok | pass | – | 4.6e-06 | 1.000000 | 6.2 | 1000 | compiles |" in resnet_row
    (raft_row,) = [line for line in text.splitlines() if line.startswith("| raft_small ")]
    assert "| ok | ok | import_error | · | · | · | · | xfail |" in raft_row and raft_row.endswith("| not run |")
    assert "- xfail (import_error at import), 1 cases: raft_small[float32-128x128] (CPU)" in text
    assert "| ResNet | resnet18 | pass 1 | compiles 1 |" in text


def test_graph_ops_come_from_model_records_and_reach_the_coverage_denominator(tmp_path, monkeypatch):
    """`python -m models.measure --results DIR` keeps each model's graph ops; the matrix's
    `reached` denominator counts every aten overload in them."""
    from harness.records import dumps
    from models import graph_ops, measure
    from reports import universe

    base = {"dtype": "float32", "target": "llvm", "stage": "compare", "status": "pass"}
    records = [{**base, "case_id": "m1", "kind": "model", "op": "resnet18",
                "aten_ops": ["aten.relu.default", "aten.convolution.default"]},
               {**base, "case_id": "m2", "kind": "model", "op": "vgg11", "stage": "export",
                "status": "export_error", "aten_ops": None},
               {**base, "case_id": "o1", "kind": "op", "op": "aten.sin.default", "aten_ops": ["aten.sin.default"]}]
    (tmp_path / "results.jsonl").write_text("".join(dumps(r) + "\n" for r in records))
    found = measure.graph_ops_from(tmp_path / "results.jsonl")
    assert found == {"resnet18": ["aten.convolution.default", "aten.relu.default"]}
    namespace: dict = {}
    exec(measure.render_graph_ops(found), namespace)  # the written module holds what was found
    assert namespace["GRAPH_OPS"] == found

    monkeypatch.setattr(graph_ops, "GRAPH_OPS", {"m": ["aten.only_in_a_model.default", "operator.getitem"]})
    universe._reached.cache_clear()
    try:
        reached = universe._reached()
    finally:
        universe._reached.cache_clear()
    assert "aten.only_in_a_model.default" in reached and "operator.getitem" not in reached
    assert "aten.sort.stable" in reached  # OpInfo samples' ops are still counted


def test_graph_ops_without_tvm_are_the_ops_the_engine_records(tmp_path):
    """`models.measure --graph-ops` exports a model as its case does: the ops equal those of the
    record a real run writes for that model."""
    from models import measure

    row = zoo.ROWS["squeezenet1_1"]
    exported = measure.exported_graph_ops(row)
    (record,) = run([model_case(row, 0)], tmp_path).values()
    assert record["aten_ops"] and exported == record["aten_ops"]
    assert "aten.convolution.default" in exported

"""The deploy stage (harness.deploy) and the tuned pipeline (harness.tuning).

The deploy stage's faults are made with its test hook, HARNESS_DEPLOY_DOCTOR, which the worker
inherits: a truncated library, and a library that computes cos where the case asks for sin
(built here through the broken converter of tests.converters). Neither may pass.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from harness.deploy import DOCTOR_ENV, drawn, selected
from tests.helpers import VOLATILE, expect_status, run, sin_case


def _one(records: dict) -> dict:
    (record,) = records.values()
    return record


def test_a_deployed_case_with_right_outputs_passes_on_the_shipped_run_alone(tmp_path):
    record = _one(run([sin_case()], tmp_path, deploy_sample=1.0))
    assert record["status"] == "pass", record["error"]
    assert record["stage"] == "compare"
    assert record["deploy"]["ran"] is True
    # The fresh process's run is the case's run: the worker never ran the program (a model runs once).
    assert "run" not in record["seconds"] and list(record["seconds"])[-3:-1] == ["deploy", "compare"]
    assert record["deploy"]["seconds"] > 0 and record["seconds"]["deploy"] >= record["deploy"]["seconds"]
    assert "harness.deploy_check" in record["deploy"]["command"]
    # A pass keeps nothing: a model's library holds its weights.
    assert record["deploy"]["library"] is None
    assert not list((tmp_path / "deploy").iterdir())


def test_a_library_that_does_not_load_is_a_deploy_error(tmp_path, monkeypatch):
    monkeypatch.setenv(DOCTOR_ENV, "truncate")
    record = _one(run([sin_case()], tmp_path, deploy_sample=1.0))
    assert (record["status"], record["stage"]) == ("deploy_error", "deploy")
    assert "at load" in record["error"] or "load: " in record["error"], record["error"]
    assert record["error_signature"].startswith("deploy: ")
    # The failure keeps what reproduces it: the library, its inputs and the command.
    assert Path(record["deploy"]["library"]).is_file()
    assert record["repro"] is None and "deploy.command" in record["repro_error"]


def _cos_library(path: Path) -> Path:
    """A library for the sin case's program compiled with sin converted as cos (tests.converters)."""
    import tvm
    from tvm.relax.frontend.torch import from_exported_program

    from tests.converters import WRONG
    from tests.factories import Sin

    ep = torch.export.export(Sin(), (torch.rand(3, 4),)).run_decompositions()
    mod = from_exported_program(ep, run_ep_decomposition=False, custom_convert_map=WRONG)
    tvm.compile(mod, target="llvm").export_library(str(path))
    return path


def test_a_deployed_library_with_wrong_values_is_not_a_pass(tmp_path, monkeypatch):
    monkeypatch.setenv(DOCTOR_ENV, f"replace={_cos_library(tmp_path / 'cos.so')}")
    case = sin_case()
    record = _one(run([case], tmp_path / "run", deploy_sample=1.0))
    assert (record["status"], record["stage"]) == ("deploy_error", "deploy")
    assert "outputs differ" in record["error"]
    assert [f["facet"] for f in record["facets"]] == ["values"]
    assert record["max_abs_err"] > 0.1  # cos against sin over [-2, 2]


def test_one_loader_serves_a_worker_and_a_dead_one_is_replaced(tmp_path, monkeypatch):
    """The loader is kept between shipped cases; one that dies fails only its case, at its step,
    and the next case gets a new one."""
    monkeypatch.setenv(DOCTOR_ENV, f"kill-once={tmp_path / 'killed'}")
    cases = [sin_case(variant=str(i)) for i in range(3)]
    records = sorted(run(cases, tmp_path / "run", deploy_sample=1.0).values(), key=lambda r: r["case_id"])
    died = [r for r in records if r["status"] == "deploy_error"]
    assert len(died) == 1 and "died (SIGKILL) at load" in died[0]["error"], [r["error"] for r in records]
    passed = [r for r in records if r["status"] == "pass"]
    assert len(passed) == 2 and all(r["stage"] == "compare" for r in passed)
    assert passed[0]["deploy"]["loader"] == passed[1]["deploy"]["loader"] != died[0]["deploy"]["loader"]


def test_a_shipped_case_that_fails_here_too_gets_the_verdict_of_a_case_that_does_not_ship(tmp_path):
    """A wrong converter fails the shipped run and the run here alike: the case is the mismatch it
    is without the deploy stage (same status, stage, signature, facets), not a deploy_error, and
    keeps no files."""
    shipped = _one(run([sin_case()], tmp_path / "shipped", convert_map="tests.converters:WRONG", deploy_sample=1.0))
    alone = _one(run([sin_case()], tmp_path / "alone", convert_map="tests.converters:WRONG", deploy_sample=0.0))
    fields = ("raw_status", "stage", "error", "error_signature", "facets", "max_abs_err", "deploy")
    assert shipped["raw_status"] == "mismatch"
    assert {k: shipped[k] for k in fields} == {k: alone[k] for k in fields}
    assert shipped["seconds"]["deploy"] > 0 and "run" in shipped["seconds"]
    assert not list((tmp_path / "shipped" / "deploy").iterdir())


def test_a_declared_deploy_error_is_xfail_and_is_deployed_whatever_the_sample(tmp_path, monkeypatch):
    monkeypatch.setenv(DOCTOR_ENV, "truncate")
    case = sin_case(expectations=(expect_status("deploy_error", stage="deploy", match="load"),))
    assert selected(case, 1e-9, "llvm") and not drawn(case.case_id, 1e-9)
    record = _one(run([case], tmp_path, deploy_sample=1e-9))
    assert (record["raw_status"], record["status"]) == ("deploy_error", "xfail")


def test_sampling_is_by_case_id_and_zero_deploys_nothing(tmp_path):
    ids = [f"aten.sin.default[float32-{i}]" for i in range(2000)]
    share = sum(drawn(i, 0.05) for i in ids) / len(ids)
    assert 0.03 < share < 0.07
    assert [drawn(i, 0.05) for i in ids] == [drawn(i, 0.05) for i in ids]
    assert all(drawn(i, 1.0) for i in ids) and not any(drawn(i, 0.0) for i in ids)
    record = _one(run([sin_case()], tmp_path, deploy_sample=0.0))
    assert record["status"] == "pass" and record["stage"] == "compare"
    assert record["deploy"] == {"ran": False, "reason": "--deploy-sample 0"}


def test_the_default_road_records_only_gain_the_new_fields(tmp_path):
    """A case not drawn for deploy, on the default pipeline, gives the record it gave before
    these fields existed, plus `pipeline` and `deploy`."""
    case = sin_case()
    assert not drawn(case.case_id, 0.01)
    record = _one(run([case], tmp_path / "now", deploy_sample=0.01))
    new = {"pipeline": "default", "deploy": {"ran": False, "reason": "not drawn (--deploy-sample 0.01)"}}
    assert {k: record[k] for k in new} == new
    before = json.loads((Path(__file__).parent / "data" / "sin_record_before_roads.json").read_text())
    later = {"frontend"}  # fields added since the stored record, each tested where it was added
    now = {k: v for k, v in record.items() if k not in VOLATILE | set(new) | later | {"torch_version", "tvm_version"}}
    # The cosine is computed on both sides scaled by their largest magnitude (harness.compare), which
    # may move its last bit: a figure, not a verdict.
    assert now.pop("cosine") == pytest.approx(before.pop("cosine"), abs=1e-12)
    assert now == before


@pytest.mark.slow
def test_the_tuned_pipeline_tunes_one_case_and_says_so(tmp_path):
    # MetaSchedule's pools each import TVM and its tensor intrinsics: 381 s here alone, 712 s on a
    # 2-core machine shared with other tests; the limit only has to tell a hang from that.
    record = _one(run([sin_case()], tmp_path, pipeline="tuned", trials=2, deploy_sample=0.0, timeout=900))
    assert record["pipeline"] == "tuned"
    assert record["status"] == "pass", record["error"]
    assert record["tuning"]["trials"] == 2
    # Tuned means MetaSchedule built and ran candidates: with its default builder none built here
    # (every build timed out importing the tensor intrinsics), and the case still passed.
    assert record["tuning"]["measured"] >= 1, record["tuning"]
    assert record["tuning"]["tasks"] >= 1 and record["tuning"]["seed"] == 0
    logs = Path(record["tuning"]["work_dir"]) / "logs"
    assert logs.is_dir() and any(logs.iterdir())
    assert Path(record["tuning"]["work_dir"]).is_relative_to(tmp_path)


def _dynamic_sin():
    from harness.case import Case, DynamicSpec, Program
    from tests.factories import sin_program

    return Case("dyn.sin[float32-rows]", "dynamic", "aten.sin.default", Program(sin_program), "float32",
                dynamic=DynamicSpec({"rows": (2, 8)}, ({0: "rows"},), ({"rows": 3}, {"rows": 5})))


def test_a_dynamic_program_under_tuned_is_built_with_the_default_pipeline_and_says_so(tmp_path):
    from harness.tuning import DYNAMIC_NOTE

    records = run([_dynamic_sin()], tmp_path, pipeline="tuned", trials=2, deploy_sample=0.0)
    assert len(records) == 2
    for record in records.values():
        assert record["status"] == "pass", record["error"]
        assert (record["pipeline"], record["pipeline_note"]) == ("default", DYNAMIC_NOTE)
        assert record.get("tuning") is None



def test_tuned_without_metaschedules_dependencies_is_bad_input_in_one_line(tmp_path, monkeypatch, capsys):
    from harness import cli, tuning

    monkeypatch.setattr(tuning, "_REQUIRED", ("no_such_module_for_tuning",))
    out = tmp_path / "out"
    assert cli.main(["check", "aten.neg.default", "--pipeline", "tuned", "--out", str(out), "--jobs", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["harness: error: --pipeline tuned needs no_such_module_for_tuning "
                   "(pip install psutil cloudpickle xgboost)"]
    assert not out.exists()


def _units(cases, **options):
    from harness.pool import Pool, PoolOptions

    return [len(unit) for unit in Pool(PoolOptions(target="llvm", batch=16, **options))._units((c, {}) for c in cases)]


def test_a_case_drawn_for_deploy_and_every_tuned_case_run_alone():
    cases = [sin_case(variant=str(i)) for i in range(6)]
    assert _units(cases) == [6]
    assert _units(cases, deploy_sample=1.0) == [1] * 6
    assert _units(cases, pipeline="tuned", trials=2) == [1] * 6
    drawn_here = [drawn(c.case_id, 0.5) for c in cases]
    assert 0 < sum(drawn_here) < 6  # a mix: the drawn ones leave, the rest still share a batch
    assert sorted(_units(cases, deploy_sample=0.5)) == sorted([1] * sum(drawn_here) + [6 - sum(drawn_here)])


def test_the_loading_process_gets_the_cases_own_limit_again(tmp_path, monkeypatch):
    """The fresh process runs the program: a model whose run takes minutes gets minutes there too
    (a flat 120 s failed every large model of the zoo), sized by the case's own limit, which the
    pool sends with the case; and the case's limit grows by as much."""
    from harness import deploy
    from harness.pool import PoolOptions

    limits = []

    def loader_run(library, inputs, outputs, device, record, limit=deploy.DEPLOY_SECONDS):
        limits.append(limit)
        raise deploy.DeployFailure("stopped here")

    monkeypatch.setattr(deploy._LOADER, "run", loader_run)
    case = sin_case()
    from harness.session import Session
    from harness.stages import run_case
    from harness.targets import resolve

    session = Session(resolve("llvm"), out=tmp_path, deploy_sample=1.0)
    for own in (1.0, 909.0):
        (record,) = run_case(case, session, {"seconds": {}, "peak_rss_mb": {}, "deploy": None}, limit=own)
        assert record["status"] == "deploy_error" and "stopped here" in record["error"], record["error"]
    assert limits[0] < 2 * deploy.DEPLOY_SECONDS
    assert limits[1] >= deploy.DEPLOY_SECONDS + 2 * 909.0
    options = PoolOptions(target="llvm", timeout=2166.0, deploy_sample=1.0)
    assert options.own_limit(case) == (case.timeout or 2166.0)
    assert options.limit(case) >= options.own_limit(case) + deploy.loader_limit(options.own_limit(case))

"""Whole runs: determinism, kill-and-resume, repro scripts, targets, dynamic programs."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from harness.case import Case, DynamicSpec, Program
from harness.records import read_results
from harness.targets import cuda_device_present
from tests.helpers import add_case, cat_program, op_case, run, sin_case, stable

ROOT = Path(__file__).resolve().parent.parent


def _mixed_cases():
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(1, 2, 6, 6, generator=gen)
    return [
        sin_case(),
        add_case(),
        op_case("aten.add.Tensor", [torch.randn(3, 4, generator=gen).half(), torch.randn(4, generator=gen).half()],
                {"alpha": 2}, dtype="float16", variant="alpha"),
        op_case("aten.max_pool2d_with_indices.default", [x, [2, 2]]),
        op_case("aten.special_bessel_j0.default", [torch.randn(5, generator=gen)]),
    ]


def test_same_seed_same_verdicts(tmp_path):
    first = run(_mixed_cases(), tmp_path / "a", jobs=2)
    second = run(_mixed_cases(), tmp_path / "b", jobs=1)  # nor do verdicts depend on the jobs
    assert set(first) == set(second)
    for case_id in first:
        assert stable(first[case_id]) == stable(second[case_id]), case_id
    statuses = {k: v["status"] for k, v in first.items()}
    # Not a tautology: the mix has passes and several kinds of failure.
    assert {"pass", "mismatch", "import_unsupported"} <= set(statuses.values())


def _records_by_id(path):
    return {r["case_id"]: stable(r) for r in read_results(path)}


def test_killed_run_resumes_to_the_same_records(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    full, killed = tmp_path / "full", tmp_path / "killed"
    subprocess.run([sys.executable, "-m", "tests.resumable_run", str(full)], env=env, check=True, cwd=ROOT)

    proc = subprocess.Popen([sys.executable, "-m", "tests.resumable_run", str(killed)], env=env, cwd=ROOT)
    results = killed / "results.jsonl"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if results.exists() and len(results.read_text().splitlines()) >= 4:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = read_results(results, allow_torn_tail=True)
    assert 4 <= len(partial) < 12, "the kill must land half-way for this test to mean anything"
    text = results.read_text()
    finished = text[:text.rfind("\n") + 1]  # the whole lines: a torn last one is dropped

    subprocess.run([sys.executable, "-m", "tests.resumable_run", str(killed), "--resume"], env=env,
                   check=True, cwd=ROOT)
    resumed = read_results(results)
    assert len(resumed) == 12
    assert len({r["case_id"] for r in resumed}) == 12, "a finished case was run twice"
    # The finished records are kept as they were written, not run again: a rerun would differ
    # at least in its timings, which are kept here to the microsecond.
    assert results.read_text().startswith(finished)
    assert resumed[:len(partial)] == partial
    assert _records_by_id(results) == _records_by_id(full / "results.jsonl")


@pytest.mark.slow
def test_repro_scripts_reproduce_the_recorded_status(tmp_path):
    records = run(_mixed_cases(), tmp_path, jobs=2)
    failing = [r for r in records.values() if r["status"] not in ("pass", "skip")]
    assert len(failing) >= 3
    for record in failing:
        assert record["repro"] and Path(record["repro"]).exists()
        done = subprocess.run([sys.executable, record["repro"]], capture_output=True, text=True,
                              cwd=tmp_path, timeout=300)
        assert done.returncode == 1, done.stdout + done.stderr
        assert done.stdout.strip().splitlines()[-1] == f"status: {record['raw_status']}"
    assert all(r["repro"] is None for r in records.values() if r["status"] == "pass")


def test_cuda_target_compiles_and_says_why_it_did_not_run(tmp_path):
    records = run([sin_case()], tmp_path, target="cuda")
    sin = records["aten.sin.default[float32-0]"]
    assert "compile" in sin["seconds"]
    if cuda_device_present():
        assert sin["status"] == "pass"
    else:
        assert sin["status"] == "skip"
        assert sin["skip_reason"] == "no-gpu"
        assert sin["stage"] == "run"


def test_importer_decomposition_is_what_the_harness_runs():
    """The engine decomposes, then imports with run_ep_decomposition=False: same Relax module."""
    import tvm
    from tvm.relax.frontend.torch import from_exported_program

    class Block(torch.nn.Module):
        def forward(self, x, w):
            return torch.nn.functional.layer_norm(torch.nn.functional.linear(x, w).relu(), (4,))

    ep = torch.export.export(Block(), (torch.randn(2, 3), torch.randn(4, 3)))
    default = from_exported_program(ep)
    ours = from_exported_program(ep.run_decompositions(), run_ep_decomposition=False)
    tvm.ir.assert_structural_equal(default, ours)


def test_dynamic_program_compiles_once_and_runs_every_size(tmp_path):
    case = Case("dyn.cat[float32-0]", "dynamic", "aten.cat.default", Program(cat_program, {}), "float32",
                dynamic=DynamicSpec(dims={"n": (2, 64)}, shapes=({0: "n"}, {0: "2*n"}),
                                    sizes=({"n": 2}, {"n": 17}, {"n": 64}), probes=({"n": 65},)))
    records = run([case], tmp_path)
    sizes = [r for r in records.values() if not r["probe"]]
    assert len(sizes) == 3
    assert {r["dynamic_case"] for r in records.values()} == {"dyn.cat[float32-0]"}
    assert all(r["status"] == "pass" for r in sizes), [r["error"] for r in sizes]
    assert sorted(r["input_shapes"][0][0] for r in sizes) == [2, 17, 64]
    # Compiled once: every size (and the probe) carries the one export, import and compile
    # timing, while each size has a run of its own.
    for stage in ("export", "import", "compile"):
        assert len({r["seconds"][stage] for r in records.values()}) == 1, stage
    assert len({r["seconds"]["run"] for r in sizes}) > 1
    (probe,) = [r for r in records.values() if r["probe"]]
    assert probe["status"] == "skip"
    # Above the declared range, yet within the memory TVM planned for it: it runs, and rightly.
    assert probe["probe"]["outcome"] == "silent-correct"


def test_results_file_has_a_line_per_case_written_as_it_ends(tmp_path):
    run([sin_case(), add_case()], tmp_path)
    lines = (tmp_path / "results.jsonl").read_text().splitlines()
    assert [json.loads(line)["case_id"] for line in lines] == ["aten.sin.default[float32-0]", "aten.add.Tensor[float32-0]"]
    fingerprint = json.loads((tmp_path / "environment.json").read_text())
    assert fingerprint["torch_version"] == "2.14.1" and fingerprint["tvm_version"] == "0.27.0.post1"
    assert fingerprint["target"] == "llvm" and fingerprint["cores"] >= 1


@pytest.mark.skipif(not cuda_device_present(), reason="no-gpu: the CUDA run path needs a GPU")
def test_cuda_run_compares_on_the_gpu(tmp_path):
    records = run([sin_case(), add_case()], tmp_path, target="cuda")
    assert all(r["status"] == "pass" for r in records.values())


def test_empty_and_bfloat16_inputs_reach_tvm(tmp_path):
    """Inputs go to TVM as compact copies: a size-0 dim or bfloat16 is not a run error of ours."""
    cases = [op_case("aten.sin.default", [torch.empty(3, 0)], variant="empty"),
             op_case("aten.sin.default", [torch.rand(2, 3).bfloat16()], dtype="bfloat16", variant="bf16")]
    records = run(cases, tmp_path)
    assert {r["status"] for r in records.values()} == {"pass"}, [r["error"] for r in records.values()]

"""What a run decides besides each case's stages: references eager cannot give, resuming and
replacing a results directory, unexpected passes, minimal examples, and repro scripts of
dynamic and property-checked cases run standalone."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.case import Case, DynamicSpec, Program
from harness.cli import main
from harness.records import ResultsError, read_results
from harness.runner import RunOptions, prepare
from tests import factories
from tests.crafted import record
from tests.helpers import run, sin_case

ROOT = Path(__file__).resolve().parent.parent


def test_a_reference_that_two_eager_runs_disagree_on_is_no_reference(tmp_path):
    noisy = Case("test.noisy[float32-0]", "op", "aten.add.Tensor", Program(factories.noisy_program, {}), "float32",
                 nondeterministic=True)
    records = run([noisy, sin_case(nondeterministic=True)], tmp_path)
    skipped = records["test.noisy[float32-0]"]
    assert (skipped["status"], skipped["stage"]) == ("skip", "eager")
    assert skipped["skip_reason"] == "nondeterministic-reference: two eager runs differ"
    assert skipped["repro"] is None
    # The counter-check: eager run twice on a deterministic program agrees, and the case runs on.
    assert records["aten.sin.default[float32-0]"]["status"] == "pass"


def _results(directory: Path, *records: dict) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "results.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


@pytest.mark.parametrize("change, was", [({"profile": "nightly"}, "profile='quick'"), ({"seed": 1}, "seed=0"),
                                         ({"convert_map": "tests.converters:WRONG"}, "convert_map=None")])
def test_resume_refuses_another_profile_seed_or_convert_map(tmp_path, change, was):
    prepare(RunOptions(out=tmp_path))
    results = _results(tmp_path, record("aten.a.default[float32-0]", "aten.a.default"))
    before = (results.read_text(), (tmp_path / "run.json").read_text())
    key = next(iter(change))
    with pytest.raises(ResultsError) as error:
        prepare(RunOptions(out=tmp_path, resume=True, **change))
    assert str(error.value) == f"{tmp_path}: cannot resume a run with different {key} (was {was})"
    assert (results.read_text(), (tmp_path / "run.json").read_text()) == before


def test_resume_through_the_command_line_refuses_another_seed(tmp_path, capsys):
    prepare(RunOptions(out=tmp_path))
    results = _results(tmp_path, record("aten.sin.default[float32-0]", "aten.sin.default"))
    before = results.read_text()
    code = main(["run", "--ops", "aten.sin.default[float32-1]", "--out", str(tmp_path), "--resume", "--seed", "1"])
    assert code == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert err == [f"harness: error: {tmp_path}: cannot resume a run with different seed (was seed=0)"]
    assert results.read_text() == before


def test_a_torn_last_line_is_cut_before_a_run_resumes(tmp_path):
    prepare(RunOptions(out=tmp_path))
    whole = json.dumps(record("aten.a.default[float32-0]", "aten.a.default")) + "\n"
    (tmp_path / "results.jsonl").write_text(whole + '{"case_id": "aten.b.default[float32-0]", "ki')
    existing = prepare(RunOptions(out=tmp_path, resume=True))
    assert [r["case_id"] for r in existing] == ["aten.a.default[float32-0]"]
    assert (tmp_path / "results.jsonl").read_text() == whole  # appends start on a line of their own


def test_an_earlier_run_is_moved_aside_only_when_asked(tmp_path):
    results = _results(tmp_path, record("aten.a.default[float32-0]", "aten.a.default"))
    before = results.read_text()
    with pytest.raises(ResultsError, match="already holds 1 records: pass --resume"):
        prepare(RunOptions(out=tmp_path))
    assert results.read_text() == before
    prepare(RunOptions(out=tmp_path, replace=True))  # what `harness check` asks for
    assert (tmp_path / "results.prev.jsonl").read_text() == before
    assert not results.exists()


def test_an_unexpected_pass_fails_the_run_and_prints_the_update_command(tmp_path, capsys):
    # Integer sin is a declared import failure; a converter that casts to float32 first fixes it.
    out = tmp_path / "check"
    code = main(["check", "aten.sin.default[int32-0]", "--convert-map", "tests.converters:SIN_ACCEPTS_INTEGERS",
                 "--jobs", "1", "--out", str(out)])
    stdout = capsys.readouterr().out
    assert code == 1, stdout
    (only,) = read_results(out)
    assert (only["status"], only["raw_status"]) == ("xpass", "pass")
    lines = stdout.splitlines()
    at = lines.index("1 unexpected passes: their expectations are stale. Update them with:")
    assert lines[at + 1] == f"    python -m opsuite.expectations update {out}"


def test_a_nightly_run_writes_its_minimal_examples_apart(tmp_path, capsys):
    out = tmp_path / "nightly"
    code = main(["run", "--ops", "aten.sin.default[float32-0]", "--profile", "nightly", "--convert-map",
                 "tests.converters:WRONG", "--jobs", "1", "--out", str(out)])
    stdout = capsys.readouterr().out
    assert code == 1, stdout
    assert [r["case_id"] for r in read_results(out)] == ["aten.sin.default[float32-0]"]  # the generated case only
    (minimal,) = read_results(out / "minimal.jsonl")
    assert minimal["case_id"] == "aten.sin.default[float32-min]"
    assert minimal["shrunk_from"] == "aten.sin.default[float32-0]"
    assert (minimal["status"], minimal["stage"]) == ("mismatch", "compare")
    assert Path(minimal["repro"]).is_file()
    assert f"minimal: aten.sin.default[float32-min] mismatch inputs {minimal['input_shapes']}" in stdout


def _repro_status(path: str) -> tuple[int, str]:
    done = subprocess.run([sys.executable, path], capture_output=True, text=True, cwd=ROOT, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})  # the convert map lives in tests/
    return done.returncode, done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr


def test_repros_of_a_dynamic_size_and_a_property_check_end_with_the_recorded_status(tmp_path):
    dynamic = Case("dyn.sin[float32-0]", "dynamic", "aten.sin.default", Program(factories.sin_program, {}),
                   "float32", dynamic=DynamicSpec(dims={"r": (2, 32)}, shapes=({0: "r"},),
                                                  sizes=({"rows": 2}, {"rows": 9})))
    checked = sin_case(variant="property", check=factories.sorted_values)
    records = run([dynamic, checked], tmp_path, "tests.converters:WRONG")
    size = records["dyn.sin[float32-0]@rows=9"]
    prop = records["aten.sin.default[float32-property]"]
    assert (size["status"], size["input_shapes"]) == ("mismatch", [[9, 4]])
    assert (prop["status"], prop["error"]) == ("mismatch", "output 0: not the same values in another order")
    for one in (size, prop):
        assert _repro_status(one["repro"]) == (1, f"status: {one['raw_status']}")

"""The nightly's two jobs on crafted shards: the gate's one bit and the exploration's new findings.

`python -m harness.nightly merge --mode gate|explore` over hand-made results directories (the
real `harness merge` and `harness report`, called in this process to spare each its start-up; the
subprocess path is tests/test_nightly.py's): a regression fails the gate, an
unexpected outcome on a case the baseline lacks is a new finding for the exploration (exit 0)
and red for a gate without a baseline, flaky cases never flip the gate.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from harness import cli, nightly
from harness.nightly_verdict import explore_seed, judge
from harness.records import ResultsWriter, read_results
from harness.runner import SHRINK_CHOICES, RunOptions, minimise
from tests.crafted import record, write_dir
from tests.helpers import sin_case

A, B, C = "aten.a.default[float32-0]", "aten.b.default[float32-0]", "aten.c.default[float32-0]"
FLAKY = {"id": "amax-empty-uint8", "reason": "reads uninitialised memory", "flaky": True}


@pytest.fixture(autouse=True)
def _harness_in_process(monkeypatch):
    monkeypatch.setattr(nightly, "harness", lambda *args: cli.main(list(args)))


def _r(case_id: str, status: str = "pass", **fields) -> dict:
    return record(case_id, case_id.split("[")[0], status, **fields)


def _shard(directory: Path, records: list[dict], seed: int = 0) -> Path:
    write_dir(directory, records, repros=True)
    environment = json.loads((directory / "environment.json").read_text())
    (directory / "environment.json").write_text(json.dumps({**environment, "seed": seed}))
    return directory


def _merge(tmp_path: Path, shard: Path, mode: str, baseline: Path | None = None, name: str = "merged"):
    summary = tmp_path / f"{name}.md"
    args = ["merge", str(shard), "--out", str(tmp_path / name), "--mode", mode, "--summary", str(summary)]
    if baseline is not None:
        args += ["--baseline", str(baseline)]
    return nightly.main(args), summary.read_text() if summary.exists() else "", tmp_path / name


def test_a_regression_fails_the_gate_and_nothing_changed_passes(tmp_path):
    baseline = _shard(tmp_path / "baseline", [_r(A), _r(B)])
    same = _shard(tmp_path / "same", [_r(A), _r(B)])
    status, text, _ = _merge(tmp_path, same, "gate", baseline, "same-merged")
    assert status == 0, text
    assert "gate (seed 0): passed" in text and "no unexpected outcome" in text

    tonight = _shard(tmp_path / "tonight", [_r(A, "mismatch"), _r(B)])
    status, text, _ = _merge(tmp_path, tonight, "gate", baseline)
    assert status == 1, text
    assert "gate (seed 0): FAILED" in text
    assert f"**regressions** (passed or failed as declared last night; a pass now failing as declared counts): `{A}` (mismatch)" in text


def test_a_pass_that_now_fails_as_declared_is_a_regression(tmp_path):
    """A declared bug that newly reaches a case that passed last night is a change, not noise."""
    baseline = _shard(tmp_path / "baseline", [_r(A), _r(B, "xfail", raw="mismatch")])
    tonight = _shard(tmp_path / "tonight", [_r(A, "xfail", raw="mismatch"), _r(B, "xfail", raw="mismatch")])
    status, text, _ = _merge(tmp_path, tonight, "gate", baseline)
    assert status == 1, text
    assert f"a pass now failing as declared counts): `{A}` (xfail)\n" in text


def test_a_case_still_failing_since_last_night_keeps_the_gate_red(tmp_path):
    baseline = _shard(tmp_path / "baseline", [_r(A, "compile_error"), _r(B)])
    tonight = _shard(tmp_path / "tonight", [_r(A, "compile_error"), _r(B)])
    status, text, _ = _merge(tmp_path, tonight, "gate", baseline)
    assert status == 1, text
    assert f"**unexpected on cases that ran last night**: `{A}` (compile_error)" in text


def test_a_new_case_is_a_finding_for_the_exploration_and_red_for_the_gate(tmp_path):
    baseline = _shard(tmp_path / "baseline", [_r(A), _r(B)])
    explored = _shard(tmp_path / "explored", [_r(A), _r(B), _r(C, "run_error")], seed=4242)
    status, text, merged = _merge(tmp_path, explored, "explore", name="explore-merged")
    assert status == 0, text
    assert "exploration (seed 4242): 1 new finding" in text
    for page in ("coverage.md", "triage.md"):
        found = (merged / page).read_text()
        section = found[found.index("## New findings (1)"):]
        assert f"`{C}` on llvm, inputs [[2, 3]]" in section and "run: RuntimeError: aten.c.default broke at run" in section
        assert "exploration: seed 4242" in section and "harness run --seed 4242 --profile quick" in section
        assert "- repro: `python repro/llvm/aten.c.default_float32-0.py`" in section
    assert json.loads((merged / "environment.json").read_text())["nightly_mode"] == "explore"

    gated = _shard(tmp_path / "gated", [_r(A), _r(B), _r(C, "run_error")])
    status, text, merged = _merge(tmp_path, gated, "gate", name="gate-merged")
    assert status == 1, text
    assert f"**unexpected outcomes (no baseline)**: `{C}` (run_error)" in text
    assert "New findings" not in (merged / "coverage.md").read_text()

    status, text, _ = _merge(tmp_path, gated, "gate", baseline, name="gate-baseline-merged")
    assert status == 1, text
    assert f"**cases new tonight**: `{C}` (run_error)" in text


def test_flaky_cases_are_listed_apart_and_never_flip_the_gate(tmp_path):
    baseline = _shard(tmp_path / "baseline", [
        _r(A, expectation=FLAKY["id"], expected=FLAKY),
        _r(B, "xfail", raw="mismatch", expectation=FLAKY["id"], expected=FLAKY)])
    tonight = _shard(tmp_path / "tonight", [
        _r(A, "xfail", raw="mismatch", expectation=FLAKY["id"], expected=FLAKY),
        _r(B, expectation=FLAKY["id"], expected=FLAKY)])
    status, text, merged = _merge(tmp_path, tonight, "gate", baseline)
    assert status == 0, text
    assert f"flaky (never judged): 2 cases, `{A}` (xfail), `{B}` (pass)" in text
    assert f"changed since the baseline: `{A}`, `{B}`" in text
    # The diff still shows the pass that became an expected failure; the gate does not judge it.
    assert json.loads((merged / "diff.json").read_text())["regressions"]
    assert "the gate does not judge them" in text


def test_a_flaky_case_failing_in_an_undeclared_way_is_still_judged():
    baseline = [_r(A, "xfail", raw="mismatch", expectation=FLAKY["id"], expected=FLAKY)]
    verdict = judge([_r(A, "crash")], baseline, "gate")
    assert [r["case_id"] for r in verdict.regressions] == [A] and not verdict.flaky
    assert verdict.exit_status == 1


def test_judge_sorts_by_what_the_baseline_said():
    baseline = [_r(A), _r(B, "xfail", raw="mismatch"), _r(C, "skip")]
    tonight = [_r(A, "xpass"), _r(B, "import_error"), _r(C, "crash"), _r("aten.d.default[float32-0]", "timeout")]
    verdict = judge(tonight, baseline, "gate")
    assert [r["case_id"] for r in verdict.regressions] == [A, B]
    assert [r["case_id"] for r in verdict.ran_before] == [C]
    assert [r["case_id"] for r in verdict.new_cases] == ["aten.d.default[float32-0]"]
    assert verdict.exit_status == 1 and judge(tonight, baseline, "explore").exit_status == 0
    assert judge([_r(A), _r(B, "xfail", raw="mismatch")], baseline, "gate").exit_status == 0
    assert [r["case_id"] for r in judge([_r(A, "xfail", raw="mismatch")], baseline, "gate").regressions] == [A]
    with pytest.raises(ValueError, match="not one of"):
        judge(tonight, None, "both")


def test_the_exploration_seed_is_new_each_run_and_never_the_gates():
    day = datetime.date(2026, 12, 2)
    assert explore_seed(None, day) == (20261202, "the date 2026-12-02")
    assert explore_seed("", day)[0] == 20261202
    assert explore_seed("12345", day) == (12345, "GITHUB_RUN_ID 12345")
    assert explore_seed("12346", day)[0] != explore_seed("12345", day)[0]
    assert 0 < explore_seed("12345678901", day)[0] < 2**31
    assert explore_seed(str(2**31 - 1), day)[0] == 1  # reduces to 0, the gate's seed
    with pytest.raises(ValueError, match="not a number"):
        explore_seed("abc", day)


def test_the_mode_sets_the_seed(monkeypatch, capsys):
    monkeypatch.setenv("GITHUB_RUN_ID", "777")
    assert nightly.seeded("gate", ["--jobs", "1"]) == ["--jobs", "1", "--seed", "0", "--shrink", "unexpected"]
    assert nightly.seeded("gate", ["--shrink=all"]) == ["--shrink=all", "--seed", "0"]  # the caller's choice stands
    assert nightly.seeded("explore", ["--jobs", "1"]) == ["--jobs", "1", "--seed", "777"]
    assert "exploration seed 777 (from GITHUB_RUN_ID 777)" in capsys.readouterr().out
    with pytest.raises(nightly.NightlyError, match="drop --seed"):
        nightly.seeded("gate", ["--seed=3"])


def test_explore_seed_command_prints_and_writes_the_github_output(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GITHUB_RUN_ID", "31337")
    output = tmp_path / "github_output"
    assert nightly.main(["explore-seed", "--github-output", str(output)]) == 0
    assert "exploration seed 31337" in capsys.readouterr().out
    assert output.read_text() == "seed=31337\n"
    monkeypatch.setenv("GITHUB_RUN_ID", "not-a-run")
    assert nightly.main(["explore-seed"]) == 2
    assert "not a number" in capsys.readouterr().err


def test_a_gate_merge_refuses_an_explorations_shards(tmp_path, capsys):
    explored = _shard(tmp_path / "explored", [_r(A)], seed=4242)
    status, _, _ = _merge(tmp_path, explored, "gate")
    assert status == 2
    assert "the gate runs seed 0, these shards ran seed 4242" in capsys.readouterr().err


def test_the_findings_show_the_shrunk_example_merged_from_the_shards(tmp_path):
    explored = _shard(tmp_path / "explored", [_r(A, "mismatch", input_shapes=[[64, 64]])], seed=9)
    shrunk = record("aten.a.default[float32-min]", "aten.a.default", "mismatch", input_shapes=[[1]],
                    shrunk_from=A)
    script = explored / "repro" / "llvm" / "aten.a.default_float32-min.py"
    script.write_text("print('status: mismatch')\n")
    shrunk["repro"] = str(script)
    with ResultsWriter(explored / "minimal.jsonl") as writer:
        writer.write([shrunk])
    status, text, merged = _merge(tmp_path, explored, "explore")
    assert status == 0, text
    (copied,) = read_results(merged / "minimal.jsonl")
    assert copied["repro"] == str(merged / "repro" / "llvm" / "aten.a.default_float32-min.py")
    section = (merged / "triage.md").read_text().split("## New findings (1)")[1]
    assert f"shrunk example: `aten.a.default[float32-min]` on llvm, inputs [[1]] (shrunk from `{A}`)" in section
    assert "- repro: `python repro/llvm/aten.a.default_float32-min.py`" in section


def test_the_gate_shrinks_only_what_no_expectation_explains(tmp_path):
    cases = [sin_case(variant=v) for v in ("declared", "new", "passing")]
    records = [_r(cases[0].case_id, "xfail", raw="mismatch"), _r(cases[1].case_id, "mismatch"),
               _r(cases[2].case_id)]
    handed = {}

    def shrinker(failures, run_one, seed):
        handed[which] = [case.case_id for case, _ in failures]
        return []

    for which in SHRINK_CHOICES:
        minimise(cases, records, RunOptions(out=tmp_path, jobs=1), shrinker, which=which)
    assert handed == {"all": [cases[0].case_id, cases[1].case_id], "unexpected": [cases[1].case_id]}  # none: no call
    with pytest.raises(ValueError, match="expected one of all, unexpected, none"):
        minimise(cases, records, RunOptions(out=tmp_path, jobs=1), shrinker, which="declared")

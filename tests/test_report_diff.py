"""The nightly diff: classification, exit codes, the history it carries forward, bad input."""

import json

import pytest

from harness.cli import main
from reports import diff, history
from tests.crafted import record, write_dir


def _r(status, raw=None, **fields):
    return record("aten.x.default[float32-0]", "aten.x.default", status, raw=raw, **fields)


NO_GPU = {"skip_reason": "no-gpu", "stage": "run"}


@pytest.mark.parametrize("old, new, expected", [
    (_r("pass"), _r("mismatch"), "regression"),
    (_r("pass"), _r("xfail", raw="mismatch"), "regression"),  # an expectation hiding a new failure
    (_r("xfail", raw="mismatch"), _r("compile_error"), "regression"),  # a known bug became another
    (_r("skip", **NO_GPU), _r("compile_error"), "regression"),  # it compiled for CUDA before
    (_r("mismatch"), _r("pass"), "fix"),
    (_r("xfail", raw="mismatch"), _r("xpass", raw="pass"), "fix"),
    (_r("compile_error"), _r("skip", **NO_GPU), "fix"),
    (_r("compile_error"), _r("import_error"), "signature"),
    (_r("mismatch", error="A"), _r("mismatch", error="B"), "signature"),
    (_r("mismatch"), _r("xfail", raw="mismatch"), "changed"),  # an expectation was declared
    (_r("pass"), _r("skip", skip_reason="eager: unsupported"), "changed"),
    (_r("skip", **NO_GPU), _r("run_error"), "changed"),  # the run was never tried before
    (_r("skip", **NO_GPU), _r("pass"), "changed"),  # another machine, not a fix
    (_r("pass"), _r("pass"), None),
    (_r("mismatch"), _r("mismatch"), None),
])
def test_classification(old, new, expected):
    assert diff.classify(old, new) == expected


def _old():
    return [
        record("aten.a.default[float32-0]", "aten.a.default"),
        record("aten.a.default[float32-1]", "aten.a.default"),
        record("aten.b.default[float32-0]", "aten.b.default", "mismatch"),
        record("aten.c.default[float32-0]", "aten.c.default", "compile_error", error="TVMError: one"),
        record("aten.gone.default[float32-0]", "aten.gone.default"),
        record("aten.e.default[float32-0]", "aten.e.default"),
    ]


def _new(regress: bool):
    return [
        record("aten.a.default[float32-0]", "aten.a.default"),
        record("aten.a.default[float32-1]", "aten.a.default", "run_error" if regress else "pass"),
        record("aten.b.default[float32-0]", "aten.b.default"),  # fixed
        record("aten.c.default[float32-0]", "aten.c.default", "compile_error", error="TVMError: two"),
        record("aten.e.default[float32-0]", "aten.e.default"),
        record("aten.e.default[float16-0]", "aten.e.default", "mismatch", dtype="float16"),  # new, failing
        record("aten.fresh.default[float32-0]", "aten.fresh.default"),
    ]


def test_report_with_a_regression_exits_1_and_lists_everything(tmp_path, capsys):
    old = write_dir(tmp_path / "old", _old())
    new = write_dir(tmp_path / "new", _new(regress=True))
    assert main(["report", str(new), "--baseline", str(old)]) == 1
    out = capsys.readouterr().out
    assert "regression: aten.a.default[float32-1] (llvm): pass -> run_error" in out
    found = json.loads((new / "diff.json").read_text())
    assert found["regressed"] is True
    assert [c["case_id"] for c in found["regressions"]] == ["aten.a.default[float32-1]"]
    assert [c["case_id"] for c in found["fixes"]] == ["aten.b.default[float32-0]"]
    assert [c["case_id"] for c in found["signatures"]] == ["aten.c.default[float32-0]"]
    assert [c["case_id"] for c in found["new"]] == ["aten.e.default[float16-0]", "aten.fresh.default[float32-0]"]
    assert [c["case_id"] for c in found["vanished"]] == ["aten.gone.default[float32-0]"]
    assert [(o["op"], o["before"], o["after"]) for o in found["op_regressions"]] == [("aten.a.default", "full", "partial")]
    assert [o["op"] for o in found["op_fixes"]] == ["aten.b.default"]
    assert [o["op"] for o in found["new_ops"]] == ["aten.fresh.default"]
    assert [o["op"] for o in found["vanished_ops"]] == ["aten.gone.default"]
    md = (new / "diff.md").read_text()
    assert "**Regressed**" in md and "### Regressions (1)" in md and "### Changed error signatures (1)" in md
    assert "## Changes since the baseline" in (new / "coverage.md").read_text()
    assert 'id="diff"' in (new / "coverage.html").read_text()


def test_new_failing_cases_alone_are_not_a_regression(tmp_path, capsys):
    old = write_dir(tmp_path / "old", _old())
    new = write_dir(tmp_path / "new", _new(regress=False))
    assert main(["report", str(new), "--baseline", str(old)]) == 0
    found = json.loads((new / "diff.json").read_text())
    assert found["regressed"] is False and found["counts"]["new"] == 2
    assert "**No regressions.**" in (new / "diff.md").read_text()
    # the op with a new failing case is listed with its grade, not as a regression
    assert not found["op_regressions"]


def test_a_degenerate_pass_on_a_shared_case_is_an_op_regression(tmp_path):
    old = write_dir(tmp_path / "old", [record("aten.a.default[float32-0]", "aten.a.default")])
    new = write_dir(tmp_path / "new", [record("aten.a.default[float32-0]", "aten.a.default", degenerate="all-zero")])
    assert main(["report", str(new), "--baseline", str(old)]) == 1


def test_report_without_baseline_drops_a_stale_diff(tmp_path):
    old = write_dir(tmp_path / "old", _old())
    new = write_dir(tmp_path / "new", _new(regress=False))
    main(["report", str(new), "--baseline", str(old)])
    assert (new / "diff.md").exists()
    assert main(["report", str(new)]) == 0
    assert not (new / "diff.md").exists() and not (new / "diff.json").exists()


def test_history_carries_forward_through_the_baseline(tmp_path):
    first = write_dir(tmp_path / "night1", _old())
    second = write_dir(tmp_path / "night2", _new(regress=False))
    third = write_dir(tmp_path / "night3", _new(regress=True))
    assert main(["report", str(first)]) == 0
    main(["report", str(second), "--baseline", str(first)])
    main(["report", str(second), "--baseline", str(first)])  # re-rendering replaces its own line
    main(["report", str(third), "--baseline", str(second)])
    lines = history.read(third)
    assert [line["run"] for line in lines] == ["night1", "night2", "night3"]
    assert [line["statuses"].get("pass") for line in lines] == [4, 5, 4]
    html = (third / "coverage.html").read_text()
    svg = html[html.index("<svg"):html.index("</svg>")]
    assert svg.count("<circle") == 3 * 3 and svg.count("<polyline") == 3


def test_a_baseline_without_history_seeds_it(tmp_path):
    old = write_dir(tmp_path / "old", _old())
    new = write_dir(tmp_path / "new", _new(regress=False))
    main(["report", str(new), "--baseline", str(old)])
    assert [line["run"] for line in history.read(new)] == ["old", "new"]
    assert not (old / "history.jsonl").exists(), "a report writes only into its own directory"


@pytest.mark.parametrize("damage, message", [
    (lambda d: (d / "results.jsonl").write_text('{"case_id": "x"\n'), "corrupt results line"),
    (lambda d: (d / "results.jsonl").write_text('{"case_id": "x"}\n'), "record lacks"),
    (lambda d: (d / "results.jsonl").unlink(), "no such results file"),
    (lambda d: (d / "environment.json").write_text("{"), "corrupt environment"),
    (lambda d: (d / "history.jsonl").write_text("not json\n"), "corrupt history line"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, damage, message):
    directory = write_dir(tmp_path / "run", _old())
    damage(directory)
    assert main(["report", str(directory)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_missing_baseline_is_exit_2(tmp_path, capsys):
    directory = write_dir(tmp_path / "run", _old())
    assert main(["report", str(directory), "--baseline", str(tmp_path / "nowhere")]) == 2
    assert "no such baseline directory" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["report", str(directory), "--baseline", str(empty)]) == 2
    assert "no such results file" in capsys.readouterr().err

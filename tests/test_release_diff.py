"""The release diff on crafted records: it reads forward from the older release (the baseline)
to the newer, judges TVM's own verdicts (raw_status, not the pinned release's expectations), and
sorts changes per case (fixed, broken, differs) and per op (newly supported, imports now, broken, fixed)."""

import json

import pytest

from reports import release_diff
from reports.load import load
from tests.crafted import record, write_dir

OLD, NEW = "0.26.0", "0.27.0.post1"


def _runs(tmp_path):
    r = record
    older = [
        # the pinned release's expectations make these xpass/xfail: the diff must look past them
        r("aten.clamp.default[int64-one-bound-0]", "aten.clamp.default", "xpass", dtype="int64", raw="pass"),
        r("aten.clamp.default[float32-0]", "aten.clamp.default", "pass"),
        r("aten.sin.default[float32-0]", "aten.sin.default", "mismatch"),
        r("aten.sin.default[float32-1]", "aten.sin.default", "pass"),
        r("aten.amax.default[float32-0]", "aten.amax.default", "import_unsupported"),
        r("aten.foo.default[float32-0]", "aten.foo.default", "import_unsupported"),
        r("aten.foo.default[float32-1]", "aten.foo.default", "import_unsupported"),
        r("aten.foo.default[bool-0]", "aten.foo.default", "skip", dtype="bool", stage="eager"),
        r("aten.bar.default[float32-0]", "aten.bar.default", "import_unsupported"),
        r("aten.cos.default[float32-0]", "aten.cos.default", "compile_error"),
        r("aten.mix.default[float32-0]", "aten.mix.default", "pass"),
        r("aten.mix.default[float32-1]", "aten.mix.default", "run_error"),
        r("aten.tan.default[float16-0]", "aten.tan.default", "skip", dtype="float16", stage="eager"),
        r("aten.gone.default[float32-0]", "aten.gone.default", "pass"),
    ]
    newer = [
        r("aten.clamp.default[int64-one-bound-0]", "aten.clamp.default", "xfail", dtype="int64",
          raw="compile_error", error="TVMError: Cannot convert infinity to BigInt"),
        r("aten.clamp.default[float32-0]", "aten.clamp.default", "pass"),
        r("aten.sin.default[float32-0]", "aten.sin.default", "pass"),
        r("aten.sin.default[float32-1]", "aten.sin.default", "pass"),
        r("aten.amax.default[float32-0]", "aten.amax.default", "xfail", raw="import_unsupported"),
        r("aten.foo.default[float32-0]", "aten.foo.default", "pass", family="op"),
        r("aten.foo.default[float32-1]", "aten.foo.default", "mismatch", family="op"),
        r("aten.foo.default[bool-0]", "aten.foo.default", "skip", dtype="bool", stage="eager", family="op"),
        r("aten.bar.default[float32-0]", "aten.bar.default", "compile_error"),
        r("aten.cos.default[float32-0]", "aten.cos.default", "run_error"),
        r("aten.mix.default[float32-0]", "aten.mix.default", "run_error"),
        r("aten.mix.default[float32-1]", "aten.mix.default", "pass"),
        r("aten.tan.default[float16-0]", "aten.tan.default", "pass", dtype="float16"),
        r("aten.new.default[float32-0]", "aten.new.default", "pass"),
    ]
    dirs = []
    for name, version, records in (("old", OLD, older), ("new", NEW, newer)):
        for rec in records:
            rec["tvm_version"] = version
        directory = write_dir(tmp_path / name, records)
        environment = json.loads((directory / "environment.json").read_text())
        (directory / "environment.json").write_text(json.dumps({**environment, "tvm_version": version}))
        dirs.append(directory)
    return dirs


@pytest.fixture
def dirs(tmp_path):
    return _runs(tmp_path)


def _ids(changes):
    return [c.case_id for c in changes]


def test_cases_are_judged_forward_on_tvms_own_verdicts(dirs):
    diff = release_diff.compare(load(dirs[0]), load(dirs[1]))
    assert (diff.older, diff.newer) == (OLD, NEW)
    # the clamp case was xpass and is xfail: by the records' status nothing regressed; by TVM's it did
    assert _ids(diff.broken) == ["aten.clamp.default[int64-one-bound-0]", "aten.mix.default[float32-0]"]
    (clamp, _) = diff.broken
    assert (clamp.before, clamp.after) == ("pass", "compile_error") and "infinity" in clamp.error
    assert _ids(diff.fixed) == ["aten.foo.default[float32-0]", "aten.mix.default[float32-1]",
                                "aten.sin.default[float32-0]"]
    assert _ids(diff.differs) == ["aten.bar.default[float32-0]", "aten.cos.default[float32-0]",
                                  "aten.foo.default[float32-1]"]
    assert _ids(diff.changed) == ["aten.tan.default[float16-0]"]
    assert diff.only_older == ["aten.gone.default[float32-0] (llvm)"]
    assert diff.only_newer == ["aten.new.default[float32-0] (llvm)"]
    assert diff.matched == 13
    assert diff.statuses_before["pass"] == 5 and diff.statuses_after["pass"] == 7
    assert diff.statuses_before["import_unsupported"] == 4 and "xfail" not in diff.statuses_after


def test_ops_are_newly_supported_importing_now_broken_or_fixed(dirs):
    diff = release_diff.compare(load(dirs[0]), load(dirs[1]))
    categories = {o.op: o.category for o in diff.ops}
    assert categories == {"aten.foo.default": "newly supported", "aten.bar.default": "imports now",
                          "aten.clamp.default": "broken", "aten.mix.default": "broken",
                          "aten.sin.default": "fixed"}
    (mix,) = [o for o in diff.ops if o.op == "aten.mix.default"]
    assert (mix.cases, mix.passed_before, mix.passed_after, mix.fixed, mix.broken) == (2, 1, 1, 1, 1)
    assert [o.op for o in diff.ops][:2] == ["aten.clamp.default", "aten.mix.default"]  # regressions first


def test_the_older_release_is_the_baseline_whatever_the_order_given(dirs):
    forward = release_diff.compare(load(dirs[0]), load(dirs[1]))
    backward = release_diff.compare(load(dirs[1]), load(dirs[0]))
    assert backward.to_json() == forward.to_json()
    assert forward.headline().startswith(f"TVM {OLD} -> {NEW} (baseline: the older release, {OLD}): 13 cases")
    assert f"fixed in {NEW}: 3 cases (1 ops); broken in {NEW}: 2 cases (2 ops); newly supported in {NEW}: 1 ops" \
        in forward.headline()


def test_the_page_labels_columns_by_version_older_first(dirs, tmp_path):
    out = tmp_path / "compat.md"
    assert release_diff.main([str(dirs[1]), str(dirs[0]), "--out", str(out)]) == 0
    text = out.read_text()
    assert f"Baseline: the older release, TVM {OLD}" in text
    assert f"| status | TVM {OLD} | TVM {NEW} |" in text
    broken = text[text.index(f"## Broken in TVM {NEW}"):text.index(f"## Fixed in TVM {NEW}")]
    assert f"| case | target | TVM {OLD} | TVM {NEW} |" in broken
    assert "| `aten.clamp.default[int64-one-bound-0]` | llvm | pass | compile_error | TVMError: Cannot convert" \
        in broken
    fixed = text[text.index(f"## Fixed in TVM {NEW}"):]
    assert "`aten.sin.default[float32-0]` | llvm | mismatch | pass" in fixed
    assert "| `aten.foo.default` | op | 3 | 0 | 1 | 1 | 0 | newly supported |" in text
    saved = json.loads(out.with_suffix(".json").read_text())
    assert saved["older"] == OLD and len(saved["broken"]) == 2


def test_a_missing_or_corrupt_run_is_one_line_and_exit_2(dirs, tmp_path, capsys):
    assert release_diff.main([str(dirs[0]), str(tmp_path / "nowhere")]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    with open(dirs[1] / "results.jsonl", "a") as f:
        f.write('{"case_id": \n')
    before = (dirs[1] / "results.jsonl").read_text()
    assert release_diff.main([str(dirs[0]), str(dirs[1])]) == 2
    err = capsys.readouterr().err
    assert err.startswith("release_diff: error:") and err.count("\n") == 1
    assert (dirs[1] / "results.jsonl").read_text() == before and not (dirs[0] / "compat.md").exists()

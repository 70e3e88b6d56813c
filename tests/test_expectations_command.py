"""`python -m opsuite.expectations update/suggest`: the files it writes load again, and it drops,
narrows and keeps entries as the results say."""

from __future__ import annotations

import shutil
import tomllib

from opsuite.expectations import entries as loader
from opsuite.expectations import rewrite
from tests.crafted import record, write_dir

FLAKY_FILE = "reductions.toml"  # holds a `flaky = true` entry


def test_every_known_failures_file_dumps_to_toml_that_loads_back_the_same_entries():
    flaky_seen = False
    for path in loader.files():
        entries = loader.load_file(path)
        assert entries, path
        flaky_seen |= any(e.get("flaky") is True for e in entries)
        assert tomllib.loads(rewrite.dump(entries))["expect"] == entries, path
    assert flaky_seen, f"no flaky entry left in {FLAKY_FILE}: the round trip no longer covers booleans"


def _known(entry_id: str, status: str, dtype: str, op: str = "aten.x.default") -> dict:
    rec = record(f"{op}[{dtype}-0]", op, status, dtype=dtype)
    rec["expectation"] = entry_id
    return rec


def test_update_drops_narrows_and_keeps_entries_and_leaves_a_loadable_file(tmp_path, capsys):
    directory = tmp_path / "known_failures"
    directory.mkdir()
    shutil.copy(loader.DIRECTORY / FLAKY_FILE, directory / FLAKY_FILE)
    (directory / "mine.toml").write_text(rewrite.dump([
        {"id": "mine.x", "op": "aten.x.default", "reason": "fixed now", "status": "mismatch"},
        {"id": "mine.y", "op": "aten.y.default", "reason": "still fails", "dtypes": ["float16", "float32"]},
        {"id": "mine.z", "op": "aten.z.default", "reason": "fails sometimes", "flaky": True},
        {"id": "mine.w", "op": "aten.w.default", "reason": "passes and fails in one dtype"},
        # the same reason as mine.y, another scope: outcomes are credited by id, not by reason
        {"id": "mine.y2", "op": "aten.y.default", "reason": "still fails", "when": "empty"},
    ]))
    results = write_dir(tmp_path / "run", [
        _known("mine.x", "xpass", "float32", "aten.x.default"),
        _known("mine.y", "xfail", "float16", "aten.y.default"),
        _known("mine.y", "xpass", "float32", "aten.y.default"),
        _known("mine.z", "xfail", "float32", "aten.z.default"),
        _known("mine.w", "xfail", "float32", "aten.w.default"),
        _known("mine.w", "xpass", "float32", "aten.w.default"),
        _known("mine.y2", "xpass", "float32", "aten.y.default"),
    ])
    before_flaky = (directory / FLAKY_FILE).read_text()

    assert rewrite.main(["update", str(results), "--dir", str(directory)]) == 0
    out = capsys.readouterr().out
    assert f"{directory / 'mine.toml'}: edited in place, 5 -> 3 entries" in out
    assert "dropped aten.x.default: passes everywhere it applied (fixed now)" in out
    assert "narrowed aten.y.default to dtypes ['float16']" in out
    assert "left aten.w.default: passes and fails within one dtype" in out
    assert (directory / FLAKY_FILE).read_text() == before_flaky  # nothing of it applied: untouched
    assert loader.load_file(directory / "mine.toml") == [
        {"id": "mine.y", "op": "aten.y.default", "reason": "still fails", "dtypes": ["float16"]},
        {"id": "mine.z", "op": "aten.z.default", "reason": "fails sometimes", "flaky": True},
        {"id": "mine.w", "op": "aten.w.default", "reason": "passes and fails in one dtype"},
    ]

    # The rewritten file, flaky entry and all, is read again by a run's loader.
    assert len(loader.load(directory)) == len(loader.load_file(directory / FLAKY_FILE)) + 3


def test_suggest_prints_loadable_entries_for_unexpected_failures_only(tmp_path, capsys):
    results = write_dir(tmp_path / "run", [
        record("aten.a.default[float32-0]", "aten.a.default", "mismatch"),
        record("aten.a.default[float16-0]", "aten.a.default", "mismatch", dtype="float16"),
        record("aten.b.default[float32-0]", "aten.b.default", "import_unsupported"),
        record("aten.c.default[float32-0]", "aten.c.default"),
        _known("t.known", "xfail", "float32", "aten.d.default"),
    ])
    assert rewrite.main(["suggest", str(results)]) == 0
    entries = tomllib.loads(capsys.readouterr().out)["expect"]
    assert [(e["op"], e["status"], e["stage"], e["dtypes"]) for e in entries] == [
        ("aten.a.default", "mismatch", "compare", ["float16", "float32"]),
        ("aten.b.default", "import_unsupported", "import", ["float32"]),
    ]


def test_update_on_a_missing_results_directory_is_a_one_line_error(tmp_path, capsys):
    assert rewrite.main(["update", str(tmp_path / "nope"), "--dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("opsuite.expectations: error: ")


def test_suggest_states_what_tvm_says_is_missing_and_the_entry_explains_the_record(tmp_path, capsys):
    from harness import expect
    from opsuite.expectations.entries import to_expectation
    from tests.helpers import sin_case

    message = ("AssertionError: Unsupported function types ['_fft_r2c.default', 'amax.default']")
    lacking = {"unsupported_ops": ["aten.amax.default", "aten._fft_r2c.default"], "error": message}
    results = write_dir(tmp_path / "run", [
        {**record("opinfo.fft.rfft[float32-0]", "opinfo.fft.rfft", "import_unsupported"), **lacking},
        {**record("opinfo.fft.rfft[float32-1]", "opinfo.fft.rfft", "import_unsupported"), **lacking},
        # Two different lists: TVM says two things, so no single reason is written.
        {**record("opinfo.x[float32-0]", "opinfo.x", "import_unsupported"), **lacking},
        {**record("opinfo.x[float32-1]", "opinfo.x", "import_unsupported"), "unsupported_ops": ["aten.y.default"]},
    ])
    assert rewrite.main(["suggest", str(results)]) == 0
    entries = {e["op"]: e for e in tomllib.loads(capsys.readouterr().out)["expect"]}
    rfft = entries["opinfo.fft.rfft"]
    assert rfft["reason"] == "the importer's convert map has no converter for aten._fft_r2c.default, aten.amax.default"
    assert entries["opinfo.x"]["reason"].startswith("TODO") and "match" not in entries["opinfo.x"]
    # The pattern fits the record's one-line error and not an error naming only one of the two.
    case = sin_case(expectations=(to_expectation({**rfft, "op": "aten.sin.default"}),))
    record_now = {"status": "import_unsupported", "raw_status": "import_unsupported", "stage": "import",
                  "error": message, "dtype": "float32", "target": "llvm", "kind": "op", "frontend": "export"}
    expect.apply(case, "llvm", record_now)
    assert record_now["status"] == "xfail"
    other = {**record_now, "status": "import_unsupported", "error": "AssertionError: Unsupported function types ['amax.default']"}
    expect.apply(case, "llvm", other)
    assert other["status"] == "import_unsupported"

"""`python -m opsuite.expectations update/suggest`: the files it writes load again, and it drops,
narrows and keeps entries as the results say."""

from __future__ import annotations

import shutil
import tomllib

from opsuite import expectations
from tests.crafted import record, write_dir

FLAKY_FILE = "reductions.toml"  # holds a `flaky = true` entry


def test_every_known_failures_file_dumps_to_toml_that_loads_back_the_same_entries():
    flaky_seen = False
    for path in expectations.files():
        entries = expectations.load_file(path)
        assert entries, path
        flaky_seen |= any(e.get("flaky") is True for e in entries)
        assert tomllib.loads(expectations.dump(entries))["expect"] == entries, path
    assert flaky_seen, f"no flaky entry left in {FLAKY_FILE}: the round trip no longer covers booleans"


def _known(reason: str, status: str, dtype: str, op: str = "aten.x.default") -> dict:
    rec = record(f"{op}[{dtype}-0]", op, status, dtype=dtype)
    rec["expectation"] = {"reason": reason, "link": None}
    return rec


def test_update_drops_narrows_and_keeps_entries_and_leaves_a_loadable_file(tmp_path, capsys):
    directory = tmp_path / "known_failures"
    directory.mkdir()
    shutil.copy(expectations.DIRECTORY / FLAKY_FILE, directory / FLAKY_FILE)
    (directory / "mine.toml").write_text(expectations.dump([
        {"op": "aten.x.default", "reason": "fixed now", "status": "mismatch"},
        {"op": "aten.y.default", "reason": "only float16 still fails", "dtypes": ["float16", "float32"]},
        {"op": "aten.z.default", "reason": "fails sometimes", "flaky": True},
        {"op": "aten.w.default", "reason": "passes and fails in one dtype"},
    ]))
    results = write_dir(tmp_path / "run", [
        _known("fixed now", "xpass", "float32", "aten.x.default"),
        _known("only float16 still fails", "xfail", "float16", "aten.y.default"),
        _known("only float16 still fails", "xpass", "float32", "aten.y.default"),
        _known("fails sometimes", "xfail", "float32", "aten.z.default"),
        _known("passes and fails in one dtype", "xfail", "float32", "aten.w.default"),
        _known("passes and fails in one dtype", "xpass", "float32", "aten.w.default"),
    ])
    before_flaky = (directory / FLAKY_FILE).read_text()

    assert expectations.main(["update", str(results), "--dir", str(directory)]) == 0
    out = capsys.readouterr().out
    assert f"{directory / 'mine.toml'}: rewritten, 4 -> 3 entries" in out
    assert "dropped aten.x.default: passes everywhere it applied (fixed now)" in out
    assert "narrowed aten.y.default to dtypes ['float16']" in out
    assert "left aten.w.default: passes and fails within one dtype" in out
    assert (directory / FLAKY_FILE).read_text() == before_flaky  # nothing of it applied: untouched
    assert expectations.load_file(directory / "mine.toml") == [
        {"op": "aten.y.default", "reason": "only float16 still fails", "dtypes": ["float16"]},
        {"op": "aten.z.default", "reason": "fails sometimes", "flaky": True},
        {"op": "aten.w.default", "reason": "passes and fails in one dtype"},
    ]

    # The rewritten file, flaky entry and all, is read again by a run's loader.
    assert len(expectations.load(directory)) == len(expectations.load_file(directory / FLAKY_FILE)) + 3


def test_suggest_prints_loadable_entries_for_unexpected_failures_only(tmp_path, capsys):
    results = write_dir(tmp_path / "run", [
        record("aten.a.default[float32-0]", "aten.a.default", "mismatch"),
        record("aten.a.default[float16-0]", "aten.a.default", "mismatch", dtype="float16"),
        record("aten.b.default[float32-0]", "aten.b.default", "import_unsupported"),
        record("aten.c.default[float32-0]", "aten.c.default"),
        _known("known", "xfail", "float32", "aten.d.default"),
    ])
    assert expectations.main(["suggest", str(results)]) == 0
    entries = tomllib.loads(capsys.readouterr().out)["expect"]
    assert [(e["op"], e["status"], e["stage"], e["dtypes"]) for e in entries] == [
        ("aten.a.default", "mismatch", "compare", ["float16", "float32"]),
        ("aten.b.default", "import_unsupported", "import", ["float32"]),
    ]


def test_update_on_a_missing_results_directory_is_a_one_line_error(tmp_path, capsys):
    assert expectations.main(["update", str(tmp_path / "nope"), "--dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("opsuite.expectations: error: ")

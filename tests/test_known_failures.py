"""Known failures as data: list-valued ops, predicates negated and joined, and the files themselves."""

import fnmatch
import re

import pytest
import torch

from harness.case import Case, Program
from harness.programs import op_program
from harness.sources import could_match
from models.zoo import ROWS as ZOO
from opsuite import dynamic
from opsuite.expectations import entries, predicates
from opsuite.families import op_cases, opinfo_cases
from opsuite.table import rows


def _case(op: str, *tensors: torch.Tensor) -> Case:
    return Case(f"{op}[float32-0]", "op", op, Program(op_program, {"op": op, "args": list(tensors)}), "float32")


def test_a_list_of_ops_names_each_of_them_and_no_other():
    entry = {"op": ["aten.sin.default", "aten.co*"], "reason": "one bug, several ops"}
    assert entries.entry_matches(entry, _case("aten.sin.default"))
    assert entries.entry_matches(entry, _case("aten.cosh.default"))
    assert not entries.entry_matches(entry, _case("aten.tan.default"))


def test_attach_gives_each_case_exactly_the_entries_that_name_it():
    """attach() matches a case only against entries whose patterns could name its op; every
    kind of pattern must still reach it: an exact op, an op glob, a case-id glob longer than the
    op, and a glob with nothing literal before its wildcard."""
    named = {"exact": "aten.sin.default", "op-glob": "aten.si*", "case-glob": "aten.sin.default[[]float32-*",
             "bare-glob": "*.default", "other-case": "aten.sin.default[[]int8-*", "other-op": "aten.sinh.default"}
    table = [{"op": pattern, "reason": name, "id": f"t.{name}"} for name, pattern in named.items()]
    cases = [_case("aten.sin.default"), _case("aten.sinh.default"), _case("aten.cos.default")]
    got = {c.op: sorted(x.reason for x in c.expectations) for c in entries.attach(cases, table)}
    assert got == {"aten.sin.default": ["bare-glob", "case-glob", "exact", "op-glob"],
                   "aten.sinh.default": ["bare-glob", "op-glob", "other-op"],
                   "aten.cos.default": ["bare-glob"]}


def test_an_op_that_is_neither_a_string_nor_a_list_of_strings_is_rejected(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[[expect]]\nop = []\nreason = "r"\n')
    with pytest.raises(entries.ExpectationsError, match="non-empty list"):
        entries.load_file(path)


def test_predicates_negate_and_join():
    empty = _case("aten.sin.default", torch.zeros(3, 0))
    full = _case("aten.sin.default", torch.zeros(3, 2))
    assert predicates.parse("!empty")(full) and not predicates.parse("!empty")(empty)
    scalar_empty = _case("aten.add.Tensor", torch.zeros(3, 0), torch.tensor(1.0))
    assert predicates.parse("empty & scalar")(scalar_empty) and not predicates.parse("empty & scalar")(empty)
    assert predicates.parse("empty & !scalar")(empty) and not predicates.parse("empty & !scalar")(scalar_empty)
    with pytest.raises(ValueError):
        predicates.parse("empty & bogus")


def _patterns(entry: dict) -> list[str]:
    return [entry["op"]] if isinstance(entry["op"], str) else entry["op"]


def _is_glob(pattern: str) -> bool:
    return any(ch in pattern for ch in "*?[")


def test_every_entry_names_an_op_with_a_row_or_a_glob():
    with_rows = {row.op for row in rows()} | {program.op for program in dynamic.programs()} | set(ZOO)
    for entry in entries.load():
        for op in _patterns(entry):
            # An OpInfo case's op is its entry (`opinfo.add`); test_opinfo checks those name cases.
            # Globs are checked against the cases themselves, below.
            assert op in with_rows or op.startswith("opinfo.") or _is_glob(op), \
                f"{entry['_file'].name}: {op} has no row"


def test_every_entry_is_a_precise_statement_about_tvm():
    # status and stage always; a wrong output names its facets, any other failure its error pattern
    vague = {e["id"]: entries.incomplete(e) for e in entries.load() if entries.incomplete(e)}
    assert not vague, vague
    wrong_outputs = [e for e in entries.load() if e["stage"] == "compare"]
    needs_model = [e["id"] for e in wrong_outputs
                   if {f.split("[")[0] for f in e["facets"]} & {"shape", "values", "nan", "inf", "property"}
                   and not (e.get("model") or e.get("unmodelled"))]
    assert wrong_outputs and not needs_model, needs_model


def test_a_flaky_entry_is_a_wrong_output_read_from_memory_no_one_wrote():
    # Flaky cases are let off the gate's judgement of their declared outcome, so the flag is kept
    # to bugs whose outputs depend on memory TVM reads outside what it wrote, and the reason says so.
    flaky = [e for e in entries.load() if e.get("flaky")]
    unsaid = [e["id"] for e in flaky
              if e["stage"] != "compare" or not re.search(r"uninitialised|leftover", e["reason"])]
    assert flaky and not unsaid, unsaid


def test_incomplete_says_what_an_entry_lacks():
    base = {"id": "t.x", "op": "aten.sin.default", "reason": "r"}
    assert "status" in entries.incomplete(base)
    assert "facets" in entries.incomplete({**base, "status": "mismatch", "stage": "compare"})
    assert entries.incomplete({**base, "status": "mismatch", "stage": "compare", "facets": ["dtype"]}) is None
    assert "match" in entries.incomplete({**base, "status": "import_error", "stage": "import"})
    assert entries.incomplete({**base, "status": "import_error", "stage": "import", "match": "bad"}) is None


@pytest.mark.slow
def test_every_glob_names_a_row_op_or_a_case():
    globs = sorted({p for entry in entries.load() for p in _patterns(entry) if _is_glob(p)})
    assert globs

    def unmatched(profile: str, patterns: list[str]) -> list[str]:
        # Only the cases of ops a pattern could name are built (the family's `wanted` filter).
        wanted = lambda op: could_match(op, patterns)  # noqa: E731
        cases = op_cases(profile, 0, wanted) + opinfo_cases(profile, 0, wanted)
        names = {c.op for c in cases} | {c.case_id for c in cases}
        return [p for p in patterns if not any(fnmatch.fnmatchcase(name, p) for name in names)]

    # Most pin quick cases; an entry may pin a case only the nightly profile has.
    stale = unmatched("quick", globs)
    stale = unmatched("nightly", stale) if stale else stale
    assert stale == [], "known-failure globs that name no op with a row and no case"


def _call_case(op: str, *args, decompose: bool = True) -> Case:
    return Case(f"{op}[int8-0]", "op", op, Program(op_program, {"op": op, "args": list(args)}), "int8",
                decompose=decompose)


def test_scalar_outside_compares_int_scalars_with_the_first_tensors_dtype():
    outside = predicates.parse("scalar_outside")
    assert outside(_call_case("aten.add.Scalar", torch.zeros(2, dtype=torch.uint8), -1))
    assert outside(_call_case("aten.__or__.Scalar", torch.zeros(2, dtype=torch.int8), 255))
    assert not outside(_call_case("aten.__or__.Scalar", torch.zeros(2, dtype=torch.uint8), 255))
    assert not outside(_call_case("aten.add.Scalar", torch.zeros(2), -1e30))  # floats take any scalar


def test_nan_inf_and_decomposed_look_at_the_values_and_the_import_path():
    x = torch.tensor([1.0, float("nan")])
    assert predicates.parse("nan & !inf")(_call_case("aten.relu.default", x))
    assert predicates.parse("inf")(_call_case("aten.relu.default", torch.tensor([float("-inf")])))
    assert not predicates.parse("nan")(_call_case("aten.relu.default", torch.zeros(2, dtype=torch.int8)))
    assert predicates.parse("!decomposed")(_call_case("aten.celu.default", x, decompose=False))
    assert predicates.parse("decomposed")(_call_case("aten.celu.default", x))


def test_the_rewrite_command_runs_as_a_module(tmp_path):
    import subprocess
    import sys

    from tests.crafted import record, write_dir

    directory = write_dir(tmp_path / "run", [record("aten.sin.default[float32-0]", "aten.sin.default",
                                                    status="mismatch")])
    done = subprocess.run([sys.executable, "-m", "opsuite.expectations", "suggest", str(directory)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert '[[expect]]\nid = "TODO.sin.default-' in done.stdout and '\nop = "aten.sin.default"' in done.stdout
    assert 'status = "mismatch"' in done.stdout
    bad = subprocess.run([sys.executable, "-m", "opsuite.expectations", "update", str(tmp_path / "none")],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


def test_update_drops_an_entry_that_passed_wherever_it_applied():
    from opsuite.expectations import rewrite
    from tests.crafted import record

    entry = {"id": "pointwise.sin_wrong", "op": "aten.sin.default", "reason": "sin was wrong", "status": "mismatch"}
    stale = record("aten.sin.default[float32-0]", "aten.sin.default", status="xpass", raw="pass",
                   expectation="pointwise.sin_wrong")
    kept, notes = rewrite.update([stale], [entry])
    assert kept == [] and notes[0].startswith("dropped aten.sin.default")
    still = record("aten.sin.default[float16-0]", "aten.sin.default", dtype="float16", status="xfail",
                   raw="mismatch", expectation="pointwise.sin_wrong")
    kept, notes = rewrite.update([stale, still], [entry])
    assert kept == [{**entry, "dtypes": ["float16"]}]


_FILE = """# header comment
# (kept)

# why sin is wrong, at length
[[expect]]
id = "t.sin"
op = "aten.sin.default"
reason = "sin was wrong"  # a trailing comment
status = "mismatch"
stage = "compare"

# cos: gone once it passes
[[expect]]
id = "t.cos"
op = "aten.cos.default"
reason = "cos was wrong"
status = "mismatch"
stage = "compare"

[[expect]]
id = "t.tan"
op = [
  "aten.tan.default",
  "aten.tanh.default",
]
reason = "tan was wrong"
status = "mismatch"
stage = "compare"
dtypes = [
  "float16",
  "float32",
]
"""


def test_update_edits_a_file_in_place_by_id_keeping_every_comment():
    import tomllib

    from opsuite.expectations import rewrite

    entries = tomllib.loads(_FILE)["expect"]
    kept = [{**entries[0], "dtypes": ["float16"]}, {**entries[2], "dtypes": ["float32"]}]
    text = rewrite.edit(_FILE, kept)
    assert tomllib.loads(text)["expect"] == kept
    assert text.startswith("# header comment\n# (kept)\n")
    assert "# why sin is wrong, at length\n[[expect]]" in text and "# a trailing comment" in text
    assert "cos" not in text
    assert 'dtypes = ["float16"]\n' in text.split("t.sin")[1].split("[[expect]]")[0]
    assert rewrite.edit(_FILE, entries) == _FILE  # nothing to change: the same bytes
    with pytest.raises(rewrite.ExpectationsError, match="in place"):
        rewrite.edit(_FILE, [{"id": "t.unknown"}])

"""Known TVM failures, declared as data in known_failures/*.toml, and the command that rewrites them.

    python -m opsuite.expectations update RESULTS_DIR   # drop or narrow entries that xpassed
    python -m opsuite.expectations suggest RESULTS_DIR  # print entries for unexpected failures

An entry matches a case by `op` (an overload, or a glob over op names and case ids, or a list
of them: one entry per bug, naming every op it breaks) and then scopes by kinds, dtypes,
targets and a named predicate; see predicates.py.
"""

from __future__ import annotations

import argparse
import collections
import fnmatch
import sys
import tomllib
from pathlib import Path

from harness.case import FAILURES, Case, Expectation
from opsuite import predicates

DIRECTORY = Path(__file__).with_name("known_failures")  # one file per table module
_FIELDS = ("op", "reason", "status", "stage", "match", "kinds", "dtypes", "targets", "when", "sizes", "link", "flaky")
_HEADER = """\
# Known TVM failures, as data (read by opsuite/expectations.py). Each [[expect]] needs a reason.
# Fields: op (overload or glob, or a list of them; required), reason (required), status, stage, match (regex on the
# one-line error), kinds, dtypes, targets, when (a predicate from opsuite/predicates.py),
# sizes (dynamic programs: only run sizes within these ranges, e.g. { b = [2, 16] }), link,
# flaky (true: the bug shows on some runs only, e.g. TVM reads uninitialised memory; a pass then stays pass).
# An unexpected pass (xpass) fails the run; `python -m opsuite.expectations update DIR` rewrites
# these files from DIR's results: entries that no longer fail anywhere are dropped, entries
# that fail only for some dtypes are narrowed to those.
"""


class ExpectationsError(Exception):
    pass


def files(directory: Path = DIRECTORY) -> list[Path]:
    return sorted(directory.glob("*.toml"))


def load(directory: Path = DIRECTORY) -> list[dict]:
    """Every entry of every file, each tagged with the file it came from."""
    entries = []
    for path in files(directory):
        entries.extend({**e, "_file": path} for e in load_file(path))
    return entries


def load_file(path: Path) -> list[dict]:
    try:
        entries = tomllib.loads(path.read_text()).get("expect", [])
    except tomllib.TOMLDecodeError as err:
        raise ExpectationsError(f"{path}: {err}") from None
    for number, entry in enumerate(entries, start=1):
        unknown = set(entry) - set(_FIELDS)
        if unknown or "op" not in entry or not str(entry.get("reason", "")).strip():
            raise ExpectationsError(f"{path}: entry {number} ({entry.get('op')}): needs op and a reason"
                                    + (f"; unknown fields {sorted(unknown)}" if unknown else ""))
        ops = entry["op"]
        if not (isinstance(ops, str) or (isinstance(ops, list) and ops and all(isinstance(o, str) for o in ops))):
            raise ExpectationsError(f"{path}: entry {number}: op must be a string or a non-empty list of strings")
    return entries


def to_expectation(entry: dict) -> Expectation:
    return Expectation(
        reason=entry["reason"], status=entry.get("status"), stage=entry.get("stage"),
        match=entry.get("match"), dtypes=tuple(entry["dtypes"]) if "dtypes" in entry else None,
        targets=tuple(entry["targets"]) if "targets" in entry else None,
        when=predicates.parse(entry["when"]) if "when" in entry else None, link=entry.get("link"),
        sizes={k: tuple(v) for k, v in entry["sizes"].items()} if "sizes" in entry else None,
        flaky=bool(entry.get("flaky", False)))


def names_op(entry: dict, op: str, case_id: str) -> bool:
    """Whether the entry's `op` (a pattern or a list of them) names this op or case id."""
    patterns = [entry["op"]] if isinstance(entry["op"], str) else entry["op"]
    return any(op == p or fnmatch.fnmatchcase(op, p) or fnmatch.fnmatchcase(case_id, p) for p in patterns)


def entry_matches(entry: dict, case: Case) -> bool:
    if "kinds" in entry and case.kind not in entry["kinds"]:
        return False
    return names_op(entry, case.op, case.case_id)


def attach(cases: list[Case], entries: list[dict] | None = None) -> list[Case]:
    """The cases with the expectations of every entry that names them."""
    import dataclasses

    entries = load() if entries is None else entries
    compiled = [(e, to_expectation(e)) for e in entries]
    out = []
    for case in cases:
        extra = tuple(x for e, x in compiled if entry_matches(e, case))
        out.append(dataclasses.replace(case, expectations=case.expectations + extra) if extra else case)
    return out


# ------------------------------------------------------------------------------ rewriting


def _toml_value(value) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    # bool before int (True is an int): TOML spells it `true`, and `True` would leave the file unloadable.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def dump(entries: list[dict]) -> str:
    """A known_failures file's text for these entries."""
    blocks = [_HEADER]
    for entry in entries:
        lines = ["[[expect]]"] + [f"{k} = {_toml_value(entry[k])}" for k in _FIELDS if k in entry]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def _entry_outcomes(entries: list[dict], records: list[dict]) -> list[collections.Counter]:
    """Per entry: (status, dtype) counts of the records it was applied to."""
    outcomes = [collections.Counter() for _ in entries]
    for record in records:
        exp = record.get("expectation")
        if not exp:
            continue
        for i, entry in enumerate(entries):
            if entry["reason"] == exp["reason"] and names_op(entry, record["op"], record["case_id"]):
                outcomes[i][(record["status"], record["dtype"])] += 1
                break
    return outcomes


def update(records: list[dict], entries: list[dict]) -> tuple[list[dict], list[str]]:
    """Entries rewritten so the recorded xpasses disappear; and what could not be fixed."""
    kept, notes = [], []
    for entry, outcome in zip(entries, _entry_outcomes(entries, records), strict=True):
        xfail_dtypes = sorted({d for (s, d) in outcome if s == "xfail"})
        xpass_dtypes = sorted({d for (s, d) in outcome if s == "xpass"})
        if not xpass_dtypes:
            kept.append(entry)
        elif not xfail_dtypes:
            notes.append(f"dropped {entry['op']}: passes everywhere it applied ({entry['reason']})")
        elif set(xfail_dtypes) & set(xpass_dtypes):
            kept.append(entry)
            notes.append(f"left {entry['op']}: passes and fails within one dtype; narrow it with `when` by hand")
        else:
            kept.append({**entry, "dtypes": xfail_dtypes})
            notes.append(f"narrowed {entry['op']} to dtypes {xfail_dtypes}")
    return kept, notes


def suggest(records: list[dict]) -> str:
    """TOML entries (reason left to the reader) for unexpected failures, one per op and signature."""
    groups: dict[tuple, set] = collections.defaultdict(set)
    for r in records:
        if r["status"] in FAILURES and r["kind"] != "model":
            groups[(r["op"], r["status"], r["stage"])].add(r["dtype"])
    entries = [{"op": op, "reason": "TODO: say what is wrong", "status": status, "stage": stage,
                "dtypes": sorted(dtypes)} for (op, status, stage), dtypes in sorted(groups.items())]
    return dump(entries)


def main(argv: list[str] | None = None) -> int:
    from harness.records import ResultsError, read_results

    parser = argparse.ArgumentParser(prog="python -m opsuite.expectations", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("update", "suggest"))
    parser.add_argument("results", type=Path, help="a results directory (or results.jsonl)")
    parser.add_argument("--dir", type=Path, default=DIRECTORY,
                        help="the known_failures directory to read and rewrite (default: the suite's)")
    args = parser.parse_args(argv)
    try:
        records = read_results(args.results)
        entries = load(args.dir)
    except (ResultsError, ExpectationsError) as err:
        print(f"opsuite.expectations: error: {err}", file=sys.stderr)
        return 2
    if args.command == "suggest":
        print(suggest(records))
        return 0
    kept, notes = update(records, entries)
    for path in files(args.dir):
        before = [e for e in entries if e["_file"] == path]
        after = [e for e in kept if e["_file"] == path]
        if after != before:
            path.write_text(dump([{k: v for k, v in e.items() if k != "_file"} for e in after]))
            print(f"{path}: rewritten, {len(before)} -> {len(after)} entries")
    for note in notes:
        print(note)
    return 0


if __name__ == "__main__":
    sys.exit(main())

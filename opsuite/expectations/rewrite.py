"""The command that rewrites known_failures/*.toml from a run's results.

    python -m opsuite.expectations update RESULTS_DIR   # drop or narrow entries that xpassed, by id,
                                                        # editing the files in place (comments kept)
    python -m opsuite.expectations suggest RESULTS_DIR  # print entries for unexpected failures
"""

from __future__ import annotations

import argparse
import collections
import re
import sys
import tomllib
from pathlib import Path

from harness.case import FAILURES
from opsuite.expectations.entries import DIRECTORY, FIELDS, ExpectationsError, files, load

_HEADER = """\
# Known TVM failures, as data (read by opsuite/expectations/entries.py). Each [[expect]] needs a reason.
# Fields: id (unique; records name it), op (overload or glob, or a list of them; required), reason (required),
# status, stage, match (regex on the one-line error), facets (a wrong output: what differs, e.g. values, dtype,
# values[1]), model (MODULE.NAME in opsuite/expectations/bug_models/: what TVM computes), unmodelled (why no
# model can say), kinds, dtypes, targets, when (a predicate from opsuite/expectations/predicates.py),
# sizes (dynamic programs: only run sizes within these ranges, e.g. { b = [2, 16] }), link,
# flaky (true: the bug shows on some runs only, e.g. TVM reads uninitialised memory; a pass then stays pass),
# tvm (the TVM releases the bug is in, a version specifier: ">=0.27", "<0.28"; the running TVM's version decides),
# frontends (the roads the claim is about, of export, dynamo, fx; default ["export"]).
# An unexpected pass (xpass) fails the run; `python -m opsuite.expectations update DIR` rewrites
# these files from DIR's results: entries that no longer fail anywhere are dropped, entries
# that fail only for some dtypes are narrowed to those.
"""


def _toml_value(value) -> str:
    if isinstance(value, bool):  # before int: True is an int, and TOML spells it true
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
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
        lines = ["[[expect]]"] + [f"{k} = {_toml_value(entry[k])}" for k in FIELDS if k in entry]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def _blocks(text: str) -> tuple[list[str], list[list[str]]]:
    """The file's lines before its first entry, and each [[expect]] block with the comment lines
    directly above it (a comment belongs to the entry it precedes)."""
    lines = text.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.strip() == "[[expect]]"]
    begins = []
    for start in starts:
        while start > (begins[-1] if begins else 0) and lines[start - 1].lstrip().startswith("#"):
            start -= 1
        begins.append(start)
    if not begins:
        return lines, []
    ends = begins[1:] + [len(lines)]
    return lines[:begins[0]], [lines[b:e] for b, e in zip(begins, ends, strict=True)]


def _set_dtypes(block: list[str], dtypes: list[str]) -> list[str]:
    """The block with its `dtypes` line (written or inserted after `stage`) set to these dtypes."""
    new = f"dtypes = {_toml_value(dtypes)}\n"
    for i, line in enumerate(block):
        if line.startswith("dtypes") and line.split("=", 1)[0].strip() == "dtypes":
            end = i
            while "]" not in block[end]:  # an array written over several lines
                end += 1
            return block[:i] + [new] + block[end + 1:]
    anchor = max(i for i, line in enumerate(block) if line.split("=", 1)[0].strip() in ("op", "status", "stage"))
    while block[anchor].rstrip().endswith(",") or ("[" in block[anchor] and "]" not in block[anchor]):
        anchor += 1  # past a multi-line op list
    return block[:anchor + 1] + [new] + block[anchor + 1:]


def edit(text: str, kept: list[dict]) -> str:
    """The file's text with only the kept entries (by id), their dtypes as given; every comment
    and the layout of every untouched entry stay as written."""
    head, blocks = _blocks(text)
    wanted = {entry["id"]: entry for entry in kept}
    out = list(head)
    for block in blocks:
        (entry,) = tomllib.loads("".join(block))["expect"]
        if entry["id"] not in wanted:
            continue
        dtypes = wanted[entry["id"]].get("dtypes")
        out.extend(block if dtypes is None or dtypes == entry.get("dtypes") else _set_dtypes(block, dtypes))
    result = "".join(out)
    written = [e["id"] for e in tomllib.loads(result).get("expect", [])]
    if written != [e["id"] for e in kept]:
        raise ExpectationsError(f"rewriting in place kept {written}, expected {[e['id'] for e in kept]}")
    return result


def _entry_outcomes(entries: list[dict], records: list[dict]) -> list[collections.Counter]:
    """Per entry: (status, dtype) counts of the records it was applied to."""
    outcomes = [collections.Counter() for _ in entries]
    index = {entry["id"]: i for i, entry in enumerate(entries)}
    for record in records:
        if record.get("expectation") in index:
            outcomes[index[record["expectation"]]][(record["status"], record["dtype"])] += 1
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


def _missing_converters(records: list[dict]) -> tuple[str, ...] | None:
    """The ops every record of an import_unsupported group says the importer lacks (TVM's own
    message lists them), when they are the same for all; None otherwise."""
    lists = {tuple(sorted(r.get("unsupported_ops") or ())) for r in records}
    return lists.pop() if len(lists) == 1 and next(iter(lists)) else None


def _unsupported_fields(missing: tuple[str, ...], road: str) -> dict:
    """A complete entry's reason and pattern for ops the road's importer has no converter for."""
    names = [op.removeprefix("aten.") for op in missing]
    table = "convert map" if road == "export" else "FX convert map"
    return {"reason": f"the importer's {table} has no converter for {', '.join(missing)}",
            "match": "".join(f"(?=.*'{re.escape(name)}')" for name in names)}


def suggest(records: list[dict]) -> str:
    """TOML entries for unexpected failures, one per op and signature. The reason is left to the
    reader, except where TVM states it: an import_unsupported group whose records name the same
    missing converters gets its reason and a pattern naming them."""
    groups: dict[tuple, list] = collections.defaultdict(list)
    for r in records:
        if r["status"] in FAILURES and r["kind"] != "model":
            groups[(r["op"], r["status"], r["stage"], r.get("frontend") or "export")].append(r)
    entries = []
    for (op, status, stage, road), members in sorted(groups.items()):
        missing = _missing_converters(members) if status == "import_unsupported" else None
        entry = {"id": f"TODO.{op.removeprefix('aten.')}-{stage}" + ("" if road == "export" else f"-{road}"), "op": op,
                 "reason": "TODO: say what is wrong", "status": status, "stage": stage,
                 "dtypes": sorted({r["dtype"] for r in members})}
        if missing:
            entry.update(_unsupported_fields(missing, road))
        if road != "export":  # a failure through another road is a claim about that road's converters
            entry["frontends"] = [road]
        entries.append(entry)
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
            path.write_text(edit(path.read_text(), after))
            print(f"{path}: edited in place, {len(before)} -> {len(after)} entries")
    for note in notes:
        print(note)
    return 0


if __name__ == "__main__":
    sys.exit(main())

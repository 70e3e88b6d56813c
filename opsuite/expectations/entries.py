"""Known TVM failures, declared as data in known_failures/*.toml: loading, and attaching to cases.

An entry matches a case by `op` (an overload, a model name, or a glob over op names and case
ids, or a list of them: one entry per bug, naming every op it breaks) and then scopes by kinds,
dtypes, targets and a named predicate (predicates.py). Every case family that attaches
expectations reads every file: `kinds` keeps an entry to the cases it is about.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import tomllib
from pathlib import Path

from harness.case import FRONTENDS, Case, Expectation
from opsuite.expectations import predicates

DIRECTORY = Path(__file__).with_name("known_failures")  # one file per table module, and models.toml
FIELDS = ("id", "op", "reason", "status", "stage", "match", "facets", "model", "unmodelled", "kinds", "dtypes",
          "targets", "when", "sizes", "link", "flaky", "frontends")


class ExpectationsError(Exception):
    pass


def files(directory: Path = DIRECTORY) -> list[Path]:
    return sorted(directory.glob("*.toml"))


def load(directory: Path = DIRECTORY) -> list[dict]:
    """Every entry of every file, each tagged with the file it came from; ids are unique."""
    entries, seen = [], {}
    for path in files(directory):
        for entry in load_file(path):
            if entry["id"] in seen:
                raise ExpectationsError(f"{path}: id {entry['id']!r} is also used in {seen[entry['id']]}")
            seen[entry["id"]] = path
            entries.append({**entry, "_file": path})
    return entries


def load_file(path: Path) -> list[dict]:
    try:
        entries = tomllib.loads(path.read_text()).get("expect", [])
    except tomllib.TOMLDecodeError as err:
        raise ExpectationsError(f"{path}: {err}") from None
    for number, entry in enumerate(entries, start=1):
        unknown = set(entry) - set(FIELDS)
        if unknown or "op" not in entry or not str(entry.get("reason", "")).strip():
            raise ExpectationsError(f"{path}: entry {number} ({entry.get('op')}): needs op and a reason"
                                    + (f"; unknown fields {sorted(unknown)}" if unknown else ""))
        ops = entry["op"]
        if not (isinstance(ops, str) or (isinstance(ops, list) and ops and all(isinstance(o, str) for o in ops))):
            raise ExpectationsError(f"{path}: entry {number}: op must be a string or a non-empty list of strings")
        if not str(entry.get("id", "")).strip():
            raise ExpectationsError(f"{path}: entry {number} ({entry['op']}): needs an id")
        try:
            to_expectation(entry)
        except (ValueError, AttributeError) as err:
            raise ExpectationsError(f"{path}: entry {number} ({entry['id']}): {err}") from None
    return entries


def incomplete(entry: dict) -> str | None:
    """What a declared bug lacks to be a precise statement about TVM, or None (a test holds
    every entry to this; loading needs only a well-formed entry)."""
    if not entry.get("status") or not entry.get("stage"):
        return "needs a status and a stage"
    if entry["stage"] == "compare":
        if not entry.get("facets"):
            return "a wrong output needs the facets it explains (values, dtype, shape, count, nan, inf, property)"
    elif not entry.get("match"):
        return "needs an error pattern (match) that fits this bug only"
    return None


def to_expectation(entry: dict) -> Expectation:
    from opsuite.expectations import bug_models

    model = bug_models.resolve(entry["model"]) if "model" in entry else None
    return Expectation(
        id=entry.get("id"), facets=tuple(entry["facets"]) if "facets" in entry else None, model=model,
        unmodelled=entry.get("unmodelled"),
        reason=entry["reason"], status=entry.get("status"), stage=entry.get("stage"),
        match=entry.get("match"), dtypes=tuple(entry["dtypes"]) if "dtypes" in entry else None,
        targets=tuple(entry["targets"]) if "targets" in entry else None,
        when=predicates.parse(entry["when"]) if "when" in entry else None, link=entry.get("link"),
        sizes={k: tuple(v) for k, v in entry["sizes"].items()} if "sizes" in entry else None,
        flaky=bool(entry.get("flaky", False)), frontends=_frontends(entry))


def _frontends(entry: dict) -> tuple[str, ...]:
    """The roads an entry's claim is about: the export road's converters unless it says more."""
    chosen = tuple(entry.get("frontends", ["export"]))
    unknown = [f for f in chosen if f not in FRONTENDS]
    if unknown or not chosen:
        raise ValueError(f"frontends {list(chosen)}: each must be one of {', '.join(FRONTENDS)}")
    return chosen


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
    entries = load() if entries is None else entries
    compiled = [(e, to_expectation(e)) for e in entries]
    out = []
    for case in cases:
        extra = tuple(x for e, x in compiled if entry_matches(e, case))
        out.append(dataclasses.replace(case, expectations=case.expectations + extra) if extra else case)
    return out

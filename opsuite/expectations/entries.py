"""Known TVM failures, declared as data in known_failures/*.toml: loading, and attaching to cases.

An entry matches a case by `op` (an overload, a model name, or a glob over op names and case
ids, or a list of them: one entry per bug, naming every op it breaks) and then scopes by kinds,
dtypes, targets and a named predicate (predicates.py). Every case family that attaches
expectations reads every file: `kinds` keeps an entry to the cases it is about.

`tvm` scopes an entry to the TVM releases the bug is in: a version specifier (PEP 440, e.g.
`">=0.27"`, `"<0.28"`, `">=0.26,<0.28"`) checked against the version of the TVM this process
imports, by PEP 440 (packaging.specifiers): a development build sorts before its release and
is counted (`0.28.dev0` is inside `">=0.27"` and `">=0.28.dev0"`, outside `">=0.28"`), but `"<0.28"`
leaves out 0.28's own prereleases; a post release is after its release (`0.27.0.post1` is
inside `">=0.27"`). Outside the scope the entry is not attached, so the case
is judged as if the entry did not exist.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import tomllib
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from harness import env
from harness.case import FRONTENDS, Case, Expectation
from opsuite.expectations import predicates

DIRECTORY = Path(__file__).with_name("known_failures")  # one file per table module, and models.toml
FIELDS = ("id", "op", "reason", "status", "stage", "match", "facets", "model", "unmodelled", "kinds", "dtypes",
          "targets", "when", "sizes", "link", "flaky", "tvm", "frontends")


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
            tvm_scope(entry)
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


def tvm_scope(entry: dict) -> SpecifierSet | None:
    """The entry's `tvm` specifier, or None when it applies to every TVM."""
    if "tvm" not in entry:
        return None
    text = entry["tvm"]
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"tvm must be a version specifier string such as \">=0.27\", not {text!r}")
    try:
        return SpecifierSet(text)
    except InvalidSpecifier:
        raise ValueError(f"tvm = {text!r} is not a version specifier (e.g. \">=0.27\", \"<0.28\")") from None


def applies_to_tvm(entry: dict, version: str | None) -> bool:
    """Whether the entry's `tvm` scope holds the given TVM version (every version when unscoped;
    an unknown or unparsable version is outside every scope but none)."""
    scope = tvm_scope(entry)
    if scope is None:
        return True
    try:
        parsed = Version(version) if version else None
    except InvalidVersion:
        parsed = None
    # prereleases=True: a nightly 0.28.dev0 is inside ">=0.27" (SpecifierSet leaves it out by default).
    return parsed is not None and scope.contains(parsed, prereleases=True)


def names_op(entry: dict, op: str, case_id: str) -> bool:
    """Whether the entry's `op` (a pattern or a list of them) names this op or case id."""
    patterns = [entry["op"]] if isinstance(entry["op"], str) else entry["op"]
    return any(op == p or fnmatch.fnmatchcase(op, p) or fnmatch.fnmatchcase(case_id, p) for p in patterns)


def entry_matches(entry: dict, case: Case) -> bool:
    if "kinds" in entry and case.kind not in entry["kinds"]:
        return False
    return names_op(entry, case.op, case.case_id)


def _literal_prefix(pattern: str) -> str:
    """The part of a glob before its first wildcard: every name it matches starts with it."""
    return pattern[:min((i for i in map(pattern.find, "*?[") if i >= 0), default=len(pattern))]


def _prefixes(entry: dict) -> tuple[str, ...]:
    return tuple(map(_literal_prefix, [entry["op"]] if isinstance(entry["op"], str) else entry["op"]))


def _may_name(prefixes: tuple[str, ...], op: str) -> bool:
    """Whether any of an entry's patterns (by their literal prefixes) can match `op` or a case
    id that starts with it."""
    return any(op.startswith(p) or p.startswith(op) for p in prefixes)


# Every family that attaches expectations reads every file: one process reads them once, and
# again only when a file changed (`expectations update` rewrites them).
_COMPILED: dict[Path, tuple] = {}


def _compiled(directory: Path) -> list[tuple[dict, Expectation]]:
    stamp = tuple((p, (st := p.stat()).st_mtime_ns, st.st_size) for p in files(directory))
    if directory not in _COMPILED or _COMPILED[directory][0] != stamp:
        _COMPILED[directory] = (stamp, [(e, to_expectation(e)) for e in load(directory)])
    return _COMPILED[directory][1]


def attach(cases: list[Case], entries: list[dict] | None = None, tvm_version: str | None = None) -> list[Case]:
    """The cases with the expectations of every entry that names them and whose `tvm` scope
    holds the TVM in use (tvm_version, default the one this process imports)."""
    compiled = _compiled(DIRECTORY) if entries is None else [(e, to_expectation(e)) for e in entries]
    if any("tvm" in e for e, _ in compiled):
        running = tvm_version or env.tvm_version()
        compiled = [(e, x) for e, x in compiled if applies_to_tvm(e, running)]
    # Each case is matched only against the entries whose patterns could name its op: a
    # nightly profile has tens of thousands of cases and hundreds of entries.
    indexed = [(_prefixes(e), e, x) for e, x in compiled]
    candidates: dict[str, list] = {}
    out = []
    for case in cases:
        if case.op not in candidates:
            candidates[case.op] = [(e, x) for prefixes, e, x in indexed if _may_name(prefixes, case.op)]
        extra = tuple(x for e, x in candidates[case.op] if entry_matches(e, case))
        out.append(dataclasses.replace(case, expectations=case.expectations + extra) if extra else case)
    return out

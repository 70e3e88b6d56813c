"""Where cases come from, which of them a command means, and how they split into shards.

The engine never imports the case families or the reports: they register entry points
in pyproject.toml, group `harness.cases` (name = the family's name, value = a
`harness.family.Family`) and group `harness.reports`. Which families `--ops` and `--models`
select is each family's own `option`; the engine names none of them.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Iterable
from importlib import metadata

from harness.case import Case, check_unique
from harness.family import OPTIONS, Family

PROFILES = ("quick", "nightly")


class SelectionError(Exception):
    """A command names something that does not exist; one line."""


def _entry_points(group: str) -> dict[str, metadata.EntryPoint]:
    return {ep.name: ep for ep in metadata.entry_points(group=group)}


def _load_family(point: metadata.EntryPoint) -> Family:
    found = point.load()
    if not isinstance(found, Family) or found.name != point.name:
        raise SelectionError(f"entry point {point.name!r} ({point.value}) is not the Family named {point.name!r}")
    return found


def families() -> list[Family]:
    """Every installed family, in plan order: by option (`--ops` before `--models`), then name."""
    found = [_load_family(p) for p in _entry_points("harness.cases").values()]
    return sorted(found, key=lambda f: (OPTIONS.index(f.option), f.name))


def family(name: str) -> Family:
    points = _entry_points("harness.cases")
    if name not in points:
        raise SelectionError(f"no case family {name!r} is installed (have: {', '.join(sorted(points)) or 'none'}; "
                             "is the project installed with `pip install -e .`?)")
    return _load_family(points[name])


def packages() -> set[str]:
    """The top-level packages the installed families live in (`opsuite`, `models`)."""
    return {p.module.split(".")[0] for p in _entry_points("harness.cases").values()}


def reporter():
    """The installed reports plugin, or None."""
    points = _entry_points("harness.reports")
    return points["reports"].load() if "reports" in points else None


def could_match(op: str, patterns: list[str]) -> bool:
    """Whether some case of `op` might match one of `patterns`: a cheap test that never says no
    wrongly (case ids start with `op[`, and a pattern's text before its first wildcard must
    start a name it matches)."""
    for pattern in patterns:
        literal = re.split(r"[*?\[]", pattern, maxsplit=1)[0]
        if any(f"{name}[".startswith(literal) for name in (op, op.removeprefix("aten."))):
            return True
    return False


def load(names: Iterable[str], profile: str, seed: int, patterns: list[str] | None = None) -> list[Case]:
    """The cases of the families `names` (only those `patterns` could select, where a family
    can build a part of its cases), ids checked unique."""
    if profile not in PROFILES:
        raise SelectionError(f"unknown profile {profile!r}; expected one of {', '.join(PROFILES)}")
    cases: list[Case] = []
    for name in names:
        source = family(name)
        wanted = (lambda op: could_match(op, patterns)) if patterns else None
        try:
            cases.extend(source.build(profile, seed, wanted))
        except Exception as err:  # noqa: BLE001 - bad table data must be a one-line error, not a traceback
            raise SelectionError(f"case family {name!r} failed to build its cases: "
                                 f"{type(err).__name__}: {err}") from err
    return check_unique(cases)


def _names(case: Case) -> tuple[str, ...]:
    op = case.op
    short = op.removeprefix("aten.")
    return (op, short, case.case_id)


def matches(case: Case, pattern: str) -> bool:
    names = _names(case)
    # Equality first: a case id's brackets would read as a character class to fnmatch.
    if pattern in names or any(fnmatch.fnmatchcase(name, pattern) for name in names):
        return True
    # `add` means every overload of aten.add, as `aten.add` does.
    packet = case.op.split(".")[1] if case.op.startswith("aten.") and case.op.count(".") == 2 else None
    return packet is not None and pattern in (packet, f"aten.{packet}")


def select(cases: list[Case], patterns: list[str] | None) -> list[Case]:
    """Cases matching any pattern; a pattern that matches nothing is an error with suggestions."""
    if not patterns:
        return list(cases)
    chosen, unmatched = [], []
    hits = {p: False for p in patterns}
    for case in cases:
        for pattern in patterns:
            if matches(case, pattern):
                hits[pattern] = True
                chosen.append(case)
                break
    unmatched = [p for p, hit in hits.items() if not hit]
    if unmatched:
        known = sorted({n for c in cases for n in _names(c)[:2]})
        close = difflib.get_close_matches(unmatched[0], known, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise SelectionError(f"unknown op or model {unmatched[0]!r}: no case matches{hint}")
    return chosen


def parse_shard(text: str) -> tuple[int, int]:
    try:
        index, count = (int(x) for x in text.split("/"))
    except ValueError:
        raise SelectionError(f"--shard {text!r}: expected I/N, e.g. 1/4") from None
    if not 1 <= index <= count:
        raise SelectionError(f"--shard {text!r}: I must be between 1 and N")
    return index, count


def shard(cases: list[Case], index: int, count: int) -> list[Case]:
    """The index-th of `count` shards (1-based), balanced by expected cost, deterministic.

    Longest-processing-time first: cases in decreasing cost (ties by id) go to the shard
    with the least cost so far, so shards end at about the same time, not with the same count.
    """
    loads = [0.0] * count
    owner: dict[str, int] = {}
    for case in sorted(cases, key=lambda c: (-c.cost, c.case_id)):
        lightest = min(range(count), key=lambda i: (loads[i], i))
        loads[lightest] += case.cost
        owner[case.case_id] = lightest
    return [c for c in cases if owner[c.case_id] == index - 1]

"""`harness bringup OP`: everything a contributor needs to bring up one op, and a loop to iterate.

    1. the op's torch schema;
    2. its converter in the installed TVM (key, function, file and line), or its absence, and the
       one a `--convert-map` puts in its place;
    3. its cases run now, every failure grouped by signature with the repro of its smallest case;
    4. where the importer has no converter and none is given: a converter skeleton file
       (harness.skeleton) ready for `--convert-map FILE:MAP`;
    5. with `--watch FILE`: the cases re-run whenever FILE changes (its mtime is polled), with
       FILE's `MAP` as the convert map, until interrupted or `--max-iterations` runs.

Verdicts are shown as the importer gives them (`raw_status`): a declared known failure that your
converter fixes reads `pass` here and `xpass` in `harness check` (the expectation is then stale
for a TVM that has the converter). The exit status is 0 when every case passes or is skipped.
"""

from __future__ import annotations

import collections
import importlib
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

from harness import converters, skeleton, sources
from harness.records import ResultsError
from harness.runner import RunOptions, execute, format_line
from harness.worker import load_convert_map

MAP_ATTR = "MAP"


def cases_of(name: str, profile: str, seed: int) -> list:
    """The cases `check` would run for `name` (its nightly ones when the profile has none)."""
    for prof in dict.fromkeys((profile, "nightly")):
        found = []
        for family in sources.families():
            try:
                found += [c for c in sources.load([family.name], prof, seed, [name]) if sources.matches(c, name)]
            except sources.SelectionError:
                continue
        if found:
            return found
    raise sources.SelectionError(f"unknown op or model {name!r}: no case matches")


def watched_spec(path: Path) -> str:
    """`--watch FILE` -> the convert-map spec `module:MAP`, FILE's folder made importable for
    this process and the workers (they inherit sys.path)."""
    path = path.resolve()
    if path.suffix != ".py":
        raise ValueError(f"--watch {path}: expected a Python file")
    folder = str(path.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return f"{path.stem}:{MAP_ATTR}"


def load_map(spec: str | None) -> dict | None:
    """The convert map named by `spec`, re-imported so an edited file is read afresh."""
    if not spec:
        return None
    module = spec.partition(":")[0]
    if module in sys.modules:
        importlib.invalidate_caches()
        try:
            importlib.reload(sys.modules[module])
        except Exception as err:  # noqa: BLE001 - a half-edited file: say so and wait for the next save
            raise ValueError(f"--convert-map {spec!r}: {type(err).__name__}: {err}") from None
    try:
        return load_convert_map(spec)
    except (SyntaxError, NameError, TypeError) as err:
        raise ValueError(f"--convert-map {spec!r}: {type(err).__name__}: {err}") from None


def describe_ops(ops: list[str], custom: dict | None, spec: str | None, echo) -> list[str]:
    """Print schema and converters; returns the ops with no converter at all."""
    missing = []
    for op in ops:
        echo(f"{op}")
        schema = skeleton.schema_of(op)
        echo(f"  schema:    {schema or '(not a torch overload)'}")
        if schema is None:
            continue
        found = converters.converter_of(op)
        echo(f"  converter: {found.describe() if found else f'none: the convert map has no key {converters.key_of(op)!r}'}")
        key = converters.key_of(op)
        if custom is not None and key in custom:
            fn = custom[key]
            if fn is None:
                echo(f"  yours:     removed by {spec}")
            else:
                echo(f"  yours:     {converters.describe_function(key, fn).describe()} ({spec})")
        elif found is None:
            missing.append(op)
    return missing


def signature_of(record: dict) -> str:
    raw = record.get("raw_status") or record["status"]
    if raw == "mismatch":
        return f"{record.get('stage') or 'compare'}: wrong values"
    return record.get("error_signature") or f"{record.get('stage') or '?'}: {raw}"


def summarise(records: list[dict], echo) -> bool:
    """Raw verdict counts and the failures grouped by signature; True when nothing failed."""
    raw = collections.Counter(r.get("raw_status") or r["status"] for r in records)
    echo("verdicts: " + ", ".join(f"{s}={n}" for s, n in sorted(raw.items())))
    failing = [r for r in records if (r.get("raw_status") or r["status"]) not in ("pass", "skip")]
    groups: dict[str, list[dict]] = collections.defaultdict(list)
    for record in failing:
        groups[signature_of(record)].append(record)
    for signature, group in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        smallest = min(group, key=lambda r: (sum(len(s) for s in r.get("input_shapes") or []), r["case_id"]))
        dtypes = sorted({r["dtype"] for r in group})
        echo(f"  {len(group)} x {signature}  [{', '.join(dtypes)}]")
        echo(f"      e.g. {smallest['case_id']}: {smallest.get('error') or ''}"[:300])
        if smallest.get("repro"):
            echo(f"      repro: {smallest['repro']}")
    stale = [r for r in records if r["status"] == "xpass"]
    if stale:
        echo(f"{len(stale)} cases pass that a known-failure entry declares failing: once the converter "
             "is in TVM, update the expectations (python -m opsuite.expectations update DIR)")
    return not failing


def run_once(cases: list, options: RunOptions, echo) -> bool:
    records = execute(cases, options, lambda case, record: echo(format_line(record)))
    return summarise(records, echo)


def bringup(name: str, *, profile: str = "quick", seed: int = 0, target: str = "llvm",
            out: Path | None = None, convert_map: str | None = None, watch: Path | None = None,
            skeleton_path: Path | None = None, jobs: int = 1, timeout: float = 60.0,
            interval: float = 1.0, max_iterations: int | None = None,
            echo: Callable[[str], None] = print) -> int:
    cases = cases_of(name, profile, seed)
    out = out or Path("results") / "bringup" / sources_safe(name)
    if watch is not None:
        if convert_map:
            raise ValueError("--watch FILE uses FILE's MAP as the convert map: leave out --convert-map")
        if not watch.is_file():
            raise ValueError(f"--watch {watch}: no such file")
        convert_map = watched_spec(watch)
    custom = load_map(convert_map)
    ops = sorted({c.op for c in cases})
    echo(f"{len(cases)} cases of {name} ({', '.join(ops[:6])}{' ...' if len(ops) > 6 else ''}) on {target}")
    missing = describe_ops(ops, custom, convert_map, echo)
    for op in missing:
        path = skeleton_path or Path("converters") / (re.sub(r"\W", "_", converters.key_of(op)) + ".py")
        if path.exists():
            echo(f"  skeleton:  {path} exists (not overwritten); try: harness bringup {op} --watch {path}")
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(skeleton.render(op, str(path)))
            echo(f"  skeleton:  wrote {path}; edit it, then: harness bringup {op} --watch {path}")

    def options() -> RunOptions:
        return RunOptions(out=out, target=target, profile=profile, seed=seed, jobs=jobs,
                          timeout=timeout, convert_map=convert_map, replace=True)

    passed = run_once(cases, options(), echo)
    if watch is None:
        return 0 if passed else 1
    iterations = 1
    seen = watch.stat().st_mtime_ns
    while max_iterations is None or iterations < max_iterations:
        echo(f"watching {watch} for changes (Ctrl-C to stop)")
        while (now := _mtime(watch)) == seen:
            time.sleep(interval)
        seen = now
        iterations += 1
        echo(f"{watch} changed: run {iterations}")
        try:
            custom = load_map(convert_map)
        except ValueError as err:
            echo(f"not run: {err}")
            passed = False
            continue
        describe_ops(ops, custom, convert_map, echo)
        try:
            passed = run_once(cases, options(), echo)
        except ResultsError as err:
            echo(f"not run: {err}")
            passed = False
    return 0 if passed else 1


def _mtime(path: Path) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except FileNotFoundError:  # an editor replacing the file: wait for it to come back
        return None


def sources_safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in name)

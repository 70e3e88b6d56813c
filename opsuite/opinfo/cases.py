"""OpInfo sample inputs as a second source of op cases.

Every entry of PyTorch's OpInfo database (`op_db`) shows up here: with cases, or in
`excluded()` with the reason it has none. Which samples can be cases was decided by the
screen (opsuite/opinfo/screen.py, committed as screen.json): this module only reads
that data, so building the cases takes milliseconds and never imports the database.

A case rebuilds its sample from (entry name, variant, dtype, sample index, seed) in the
worker (opsuite.standalone.opinfo_programs) and calls the entry's op on it; the aten overloads the
case covers are the ones its record's `aten_ops` name, read from the decomposed graph.

    opinfo.add[float32-s0]          op = "opinfo.add", sample 0 of `add` in float32

Profiles:
    nightly  every screened sample that exports (screen.FIRST_DTYPE_SAMPLES in the
             entry's first dtype, float32 where supported)
    quick    one sample per entry, the most telling one (see _usable), and only for entries
             that bring an aten overload no op-table row is for (see quick_entries): a case
             per usable entry costs over half an hour on CPU, and an overload a row is for is
             already tested by the row's own cases

Samples whose output values mean nothing to compare get a property check instead
(opsuite.standalone): random draws (opinfo_checks.random_draw), and uninitialised memory,
torch.empty and kin (properties.structure_only).
"""

from __future__ import annotations

import collections
import functools
import json
import re

from harness.case import Case, Program
from opsuite.opinfo.screen import DATA
from opsuite.opinfo.tolerances import OVERRIDES
from opsuite.standalone import opinfo_checks, properties
from opsuite.standalone.opinfo_programs import opinfo_program

CHECKS = {"exact": None, "random": opinfo_checks.random_draw, "undefined": properties.structure_only}


@functools.cache
def screen() -> dict:
    """The committed screen: entry id -> {"name", "variant", ...} (see opsuite.opinfo.screen)."""
    return json.loads(DATA.read_text())["entries"]


def excluded() -> dict[str, str]:
    """Entries without cases, and why (the screen's category and the error it saw)."""
    return {entry: info["reason"] for entry, info in screen().items() if "excluded" in info}


def exclusion_categories() -> collections.Counter:
    return collections.Counter(info["excluded"] for info in screen().values() if "excluded" in info)


_SHAPED_TENSOR = re.compile(r"Tensor\[\d")  # a tensor of rank >= 1 in a sample description


def _usable(samples: list[dict]) -> list[int]:
    """Indices of samples that ran eagerly and exported, the most telling first: a degenerate
    output (all zero, constant, empty) proves little, and a sample of 0-d tensors only (OpInfo's
    elementwise samples start with one) checks a single scalar."""
    good = [i for i, s in enumerate(samples) if "eager" not in s and s["export"] is None]
    return sorted(good, key=lambda i: (samples[i]["degenerate"] is not None,
                                       not _SHAPED_TENSOR.search(samples[i]["description"]), i))


def chosen_samples(info: dict, profile: str) -> list[tuple[str, int]]:
    """(dtype, sample index) pairs an entry contributes to a profile: nightly every screened
    sample that exports, quick the first of them (quick_entries decides whether it is used)."""
    chosen = [(dtype, i) for dtype, samples in info["samples"].items() for i in _usable(samples)]
    return chosen[:1] if profile == "quick" else chosen


def _aten_ops(info: dict, dtype: str, index: int) -> set[str]:
    return {op for op in info["samples"][dtype][index]["aten_ops"] if op.startswith("aten.")}


def quick_entries(row_ops: set[str]) -> dict[str, list[str]]:
    """Entries in the quick profile, each with the overloads it is the first to bring.

    In entry order, an entry is in when its quick sample's decomposed graph has an aten
    overload that no row is for (`row_ops`) and no earlier quick entry brought: `nn.functional.relu`
    and `relu` decompose alike, one of them is enough for a smoke test.
    """
    brought: set[str] = set(row_ops)
    chosen = {}
    for entry, info in screen().items():
        if "excluded" in info:
            continue
        dtype, index = chosen_samples(info, "quick")[0]
        new = _aten_ops(info, dtype, index) - brought
        if new:
            chosen[entry] = sorted(new)
            brought |= new
    return chosen


def reached() -> dict[str, list[tuple[str, str, int]]]:
    """Every aten overload some screened sample's exported and decomposed graph reaches, with the
    (entry, dtype, sample index) pairs that reach it: ops users' programs meet, whether or not
    the importer or core ATen names them."""
    found: dict[str, list[tuple[str, str, int]]] = {}
    for entry, info in screen().items():
        if "excluded" not in info:
            for dtype, index in chosen_samples(info, "nightly"):
                for op in sorted(_aten_ops(info, dtype, index)):
                    found.setdefault(op, []).append((entry, dtype, index))
    return found


def quick_samples(row_ops: set[str]) -> dict[str, list[tuple[str, int]]]:
    """The quick profile's OpInfo samples per entry: each quick entry's first sample, and then,
    for an overload only later samples reach, the first sample that reaches it."""
    screened, first = screen(), quick_entries(row_ops)  # the screen is parsed once, not per entry
    chosen = {entry: chosen_samples(screened[entry], "quick") for entry in first}
    brought = set(row_ops).union(*first.values())
    for op, where in sorted(reached().items()):
        if op not in brought:
            entry, dtype, index = where[0]
            chosen.setdefault(entry, []).append((dtype, index))
            brought |= _aten_ops(screened[entry], dtype, index)
    return chosen


def _reads_uninitialized(info: dict) -> bool:
    """Uninitialised memory is a property of the op, not of one sample (a 0-d empty_like can
    happen to look written), so one such sample decides how all of the entry's are compared."""
    return any(s.get("values") == "undefined" for samples in info["samples"].values() for s in samples)


def sample_case(entry: str, info: dict, dtype: str, index: int, seed: int) -> Case:
    sample = info["samples"][dtype][index]
    values = "undefined" if _reads_uninitialized(info) else sample["values"]
    return Case(
        case_id=f"opinfo.{entry}[{dtype}-s{index}]", kind="op", op=f"opinfo.{entry}",
        program=Program(opinfo_program, {"name": info["name"], "variant": info["variant"], "dtype": dtype,
                                         "index": index, "seed": seed}),
        dtype=dtype, seed=seed, check=CHECKS[values], tolerance=OVERRIDES.get((entry, dtype)),
        meta={"opinfo": entry, "sample": sample["description"], "values": values,
              "reproduce": f"opsuite.standalone.opinfo_programs.opinfo_program({info['name']!r}, {info['variant']!r}, "
                           f"{dtype!r}, {index}, {seed})"},
    )


def row_ops() -> set[str]:
    """The overloads the op table has rows for."""
    from opsuite.table import rows

    return {row.op for row in rows()}


def cases(profile: str, seed: int) -> list[Case]:
    wanted = quick_samples(row_ops()) if profile == "quick" else None
    found = []
    for entry, info in screen().items():
        if "excluded" not in info and (wanted is None or entry in wanted):
            pairs = chosen_samples(info, profile) if wanted is None else wanted[entry]
            found.extend(sample_case(entry, info, dtype, index, seed) for dtype, index in pairs)
    return found

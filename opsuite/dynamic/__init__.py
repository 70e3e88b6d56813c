"""Dynamic-shape cases: programs exported with symbolic dims, compiled once, run at several sizes.

`programs()` is the table (data: opsuite/dynamic/families.py per op family, symbols.py for
size arithmetic, control flow and data-dependent shapes); `cases(profile, seed)` turns it into
harness cases of kind "dynamic", ids like `dyn.add.Tensor[float32-b-0]` (the op without its
`aten.` prefix, dtype, the dynamic axes, a counter). `harness run --ops 'dyn.*'` runs them.
The program factories live in opsuite/dynamic/modules.py (torch only: repros embed it).
Their results table: `python -m reports.dynamic_report RESULTS_DIR` (per program: sizes,
verdicts, symbolic check, probes).
"""

from __future__ import annotations

from opsuite.dynamic.program import DynProgram, to_case


def programs() -> list[DynProgram]:
    from opsuite.dynamic import families, symbols

    return list(families.PROGRAMS) + list(symbols.PROGRAMS)


def no_program() -> dict[str, str]:
    """Ops that only symbolic graphs could hold but no exported graph does, with the reason."""
    from opsuite.dynamic import symbols

    return dict(symbols.NO_PROGRAM)


def counters(chosen: list[DynProgram]) -> list[int]:
    """The ids' last part: it numbers programs with the same op, dtype and axes in table order."""
    seen: dict[tuple, int] = {}
    numbers = []
    for program in chosen:
        key = (program.op, program.dtype, program.label)
        seen[key] = seen.get(key, -1) + 1
        numbers.append(seen[key])
    return numbers


def cases(profile: str, seed: int, wanted=None) -> list:
    """The programs of `profile`; with `wanted` (a predicate over names, see harness.sources),
    only those whose op or id prefix (`dyn.add.Tensor`) it accepts. Counters number the whole
    table, so an id does not depend on the selection."""
    chosen = programs()
    return [to_case(p, i, seed) for p, i in zip(chosen, counters(chosen), strict=True)
            if (profile != "quick" or p.quick)
            and (wanted is None or wanted(p.op) or wanted(f"dyn.{p.op.removeprefix('aten.')}"))]

"""The CUDA smoke check (`nox -s gpu -- --smoke`): a minute that proves the whole CUDA path here.

A few dozen quick cases whose values cross the device boundary in every way the run path
converts them (float32, float16, bfloat16, float64, integers, bool, mixed dtypes, a broadcast,
an empty tensor, a matmul, a reduction, a softmax, a convolution, a dynamic-shape program) are
run on CUDA with `harness run`; this module then reads their records and says what was proved.

On a GPU host it passes when every case ended as declared (nothing unexpected) and cases of
float32, float16, bfloat16 and bool were run on the device and compared with eager. Without a
GPU it says plainly that nothing ran: what it proved is that TVM generated the kernels and the
device compiler accepted them for each listed arch.

    python -m harness.smoke DIR     # after: harness run --target cuda --ops <SMOKE_OPS> --out DIR
"""

from __future__ import annotations

import collections
import sys
from pathlib import Path

from harness.case import UNEXPECTED
from harness.records import read_results

SMOKE_OPS = ("aten.add.Tensor", "aten.where.self", "aten.mm.default", "aten.sum.dim_IntList",
             "aten._softmax.default", "aten.convolution.default")
# Dtypes a GPU run must have compared on the device: one per conversion the run path makes.
MUST_RUN = ("float32", "float16", "bfloat16", "bool")


def summarise(records: list[dict]) -> tuple[int, list[str]]:
    """(exit status, lines saying what the records prove)."""
    if not records:
        return 1, ["smoke: no records: nothing was run"]
    statuses = collections.Counter(r["status"] for r in records)
    unexpected = [r for r in records if r["status"] in UNEXPECTED]
    compared = [r for r in records if r.get("stage") == "compare" or r["status"] == "pass"]
    compiled = [r for r in records if r.get("skip_reason") == "no-gpu"]
    lines = [f"smoke: {len(records)} records: " + ", ".join(f"{s}={n}" for s, n in sorted(statuses.items()))]
    for r in unexpected:
        lines.append(f"  unexpected: {r['case_id']} {r['status']} at {r.get('stage')}: {r.get('error')}")
    archs = sorted({a for r in records for a, v in ((r.get("device_compile") or {}).get("archs") or {}).items()
                    if v == "compiled"})
    if compared:
        ran = {d for r in compared for d in r["dtype"].split("+")}
        missing = [d for d in MUST_RUN if d not in {x for r in compared if r["status"] == "pass"
                                                    for x in r["dtype"].split("+")}]
        lines.append(f"smoke: {len(compared)} cases ran on the GPU and were compared with eager "
                     f"(dtypes {', '.join(sorted(ran))}); kernels compiled for {', '.join(archs) or '?'}")
        if missing:
            lines.append(f"smoke: FAILED: no case of {', '.join(missing)} passed on the device")
        ok = not unexpected and not missing
    else:
        lines.append(f"smoke: no GPU here: nothing ran on a device. {len(compiled)} cases were compiled for "
                     f"CUDA and their kernels accepted by the device compiler for {', '.join(archs) or 'no arch'};"
                     " the run path (inputs to the device, results back, comparison) is not proved here")
        ok = not unexpected and bool(compiled)
    lines.append("smoke: " + ("OK" if ok else "FAILED"))
    return (0 if ok else 1), lines


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m harness.smoke RESULTS_DIR", file=sys.stderr)
        return 2
    directory = Path(argv[0])
    if not (directory / "results.jsonl").exists():
        print(f"smoke: error: {directory}/results.jsonl: no such file", file=sys.stderr)
        return 2
    status, lines = summarise(read_results(directory))
    print("\n".join(lines))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

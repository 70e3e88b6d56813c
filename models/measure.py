"""Regenerate models/measured.py: each model's float32 rounding noise, and its seconds.

    python -m models.measure [--results DIR] [--only NAME ...]
    python -m models.measure --graph-ops [--only NAME ...]

noise: the model is built as a case builds it (zoo row, seed 0), then run in float32 and, as
a copy converted to float64, in float64; the relative L2 distance between the two is how
much rounding this network accumulates, and the tolerance tier is derived from it
(models.cases.tolerance). Quantized models have none (their kernels have no float64).
seconds: the total seconds of each model's case in DIR/results.jsonl (a full CPU run).
Numbers of models not measured this time are kept.

With --results, models/graph_ops.py is rewritten too: the ops of each model's exported,
decomposed graph (its record's `aten_ops`), which the coverage matrix's `reached` denominator
counts as ops users' programs meet. --graph-ops finds them without TVM: each model is built as
its case builds it, exported and decomposed as the engine does (minutes for the zoo, where a
run takes hours); a model whose export fails keeps what graph_ops.py had.
"""

from __future__ import annotations

import argparse
import copy
import gc
import pprint
import sys
from pathlib import Path

import torch

from harness.records import read_results
from models.build import build_model, task_of
from models.graph_ops import GRAPH_OPS
from models.measured import MEASURED
from models.zoo import ROWS, ModelRow

OUT = Path(__file__).with_name("measured.py")
GRAPH_OPS_OUT = Path(__file__).with_name("graph_ops.py")


def _floats(value) -> list[torch.Tensor]:
    leaves, _ = torch.utils._pytree.tree_flatten(value)
    return [x for x in leaves if isinstance(x, torch.Tensor) and x.is_floating_point()]


def _double(value):
    return torch.utils._pytree.tree_map(
        lambda x: x.double() if isinstance(x, torch.Tensor) and x.is_floating_point() else x, value)


@torch.no_grad()
def float32_noise(row: ModelRow, seed: int = 0) -> float | None:
    """Relative L2 distance of float32 eager from float64 eager (worst output), or None."""
    if task_of(row.name) == "quantized":
        return None
    height, width = row.hw
    extra = {"frames": row.frames} if row.frames is not None else {}
    model, inputs = build_model(row.name, seed, height=height, width=width,
                                options=dict(row.options) or None, **extra)
    single = _floats(model(*inputs))
    model64 = copy.deepcopy(model).double()
    try:
        double = _floats(model64(*_double(inputs)))
    except RuntimeError:  # a model that creates float32 tensors inside forward
        return None
    worst = 0.0
    for a, b in zip(single, double, strict=True):
        norm = float(b.norm())
        if norm > 0.0:
            worst = max(worst, float((a.double() - b).norm()) / norm)
    return float(f"{worst:.2g}")


def seconds_from(results: Path) -> dict[str, float]:
    seconds: dict[str, float] = {}
    for record in read_results(results):
        if record["kind"] == "model":
            seconds[record["op"]] = round(record.get("seconds", {}).get("total") or 0.0, 1)
    return seconds


def graph_ops_from(results: Path) -> dict[str, list[str]]:
    """Each model's graph ops, from the records whose export and decomposition succeeded."""
    return {record["op"]: sorted(record["aten_ops"]) for record in read_results(results)
            if record["kind"] == "model" and record.get("aten_ops")}


def exported_graph_ops(row: ModelRow) -> list[str]:
    """The ops of the model's exported, decomposed graph, built as its quick or nightly case is."""
    from harness.stages import graph_aten_ops
    from models.cases import model_case

    module, inputs = model_case(row, 0).program.build()
    return graph_aten_ops(torch.export.export(module, tuple(inputs)).run_decompositions())


def render_graph_ops(graph_ops: dict[str, list[str]]) -> str:
    head = GRAPH_OPS_OUT.read_text().split("GRAPH_OPS")[0]
    body = pprint.pformat(dict(sorted(graph_ops.items())), width=100, compact=True)
    return f"{head}GRAPH_OPS: dict[str, list[str]] = {body}\n"


def render(measured: dict[str, dict[str, float]]) -> str:
    head = OUT.read_text().split("MEASURED")[0]
    body = pprint.pformat(dict(sorted(measured.items())), width=100, sort_dicts=True)
    return f"{head}MEASURED: dict[str, dict[str, float]] = {body}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, help="a full CPU run's directory, for seconds")
    parser.add_argument("--only", nargs="*", help="measure the noise of these models only")
    parser.add_argument("--no-noise", action="store_true", help="only take seconds from --results")
    parser.add_argument("--graph-ops", action="store_true",
                        help="only rewrite models/graph_ops.py, exporting each model (no TVM)")
    args = parser.parse_args(argv)
    if args.graph_ops:
        graph_ops = dict(GRAPH_OPS)
        for name in args.only or list(ROWS):
            try:
                graph_ops[name] = exported_graph_ops(ROWS[name])
                print(f"{name}: {len(graph_ops[name])} ops", file=sys.stderr, flush=True)
            except Exception as err:  # noqa: BLE001 - that model keeps its earlier entry
                print(f"{name}: export failed ({type(err).__name__}: {err})"[:300], file=sys.stderr, flush=True)
            gc.collect()
        GRAPH_OPS_OUT.write_text(render_graph_ops(graph_ops))
        print(f"wrote {GRAPH_OPS_OUT}", file=sys.stderr)
        return 0
    measured = {name: dict(values) for name, values in MEASURED.items()}
    if not args.no_noise:
        torch.set_num_threads(max(1, torch.get_num_threads()))
        for name in args.only or list(ROWS):
            noise = float32_noise(ROWS[name])
            print(f"{name}: noise {noise}", file=sys.stderr, flush=True)
            entry = measured.setdefault(name, {})
            if noise is None:
                entry.pop("noise", None)
            else:
                entry["noise"] = noise
            gc.collect()
    if args.results:
        for name, seconds in seconds_from(args.results).items():
            if name in ROWS:
                measured.setdefault(name, {})["seconds"] = seconds
        graph_ops = dict(GRAPH_OPS)
        graph_ops.update((name, ops) for name, ops in graph_ops_from(args.results).items() if name in ROWS)
        GRAPH_OPS_OUT.write_text(render_graph_ops(graph_ops))
        print(f"wrote {GRAPH_OPS_OUT}", file=sys.stderr)
    OUT.write_text(render(measured))
    print(f"wrote {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The OpInfo exportability screen: which op_db samples can be cases at all, as generated data.

    nice -n 10 python -m opsuite.opinfo.screen            # rewrite opsuite/opinfo/screen.json
    python -m opsuite.opinfo.screen --entries 'add' 'nn.functional.*' --out /tmp/screen.json

Generating OpInfo samples and exporting them takes minutes, far too long for `harness list`,
so it is done once here and its outcome committed. For every op_db entry and every CPU dtype
the harness runs (OpInfo's supported set intersected with ours) the first few samples are
rebuilt twice from a seed, run eagerly, exported and decomposed, and classified:

- the entry is excluded, with a category and the reason, when it has no such dtype, its
  sample function fails or yields nothing on CPU, its samples differ for the same seed, its
  op fails eagerly on its own samples, or torch.export fails on every screened sample;
- otherwise each screened sample is kept with its description, its export error (null when
  it exports) or the aten overloads of its decomposed graph, whether its op draws random
  numbers, and whether its output is degenerate.

Only torch runs here: no TVM verdict is ever stored, those come from the runs.
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import json
import logging
import signal
import sys
import time
import warnings
from pathlib import Path

import torch

from harness.compare import compare_outputs, degenerate_kind
from harness.signature import one_line_error
from harness.stages import flatten_outputs, graph_aten_ops
from opsuite.coverage.denominators import opinfo_id
from opsuite.draw.values import ALL_DTYPES
from opsuite.standalone import opinfo_programs as P

DATA = Path(__file__).with_name("screen.json")
COMMAND = "nice -n 10 python -m opsuite.opinfo.screen"
SEED = 0  # the screen's samples are those of run seed 0; other seeds draw other values, same shapes
FIRST_DTYPE_SAMPLES = 3  # screened in an entry's first dtype (quick picks among these)
# Screened in each other dtype (nightly). 0: one sample per dtype made the screen of all 703
# entries take over an hour on a two-core machine; the first dtype's samples are what both
# profiles need, other dtypes can be screened into the data later by raising this.
OTHER_DTYPE_SAMPLES = 0
ENTRY_SECONDS = 60  # an entry whose screen takes longer is excluded as too slow to be a case

# Exclusion categories, in the order they are decided.
CATEGORIES = {
    "no-dtype": "OpInfo supports none of the harness's dtypes on CPU",
    "samples-error": "the OpInfo sample function fails on CPU",
    "no-samples": "the OpInfo sample function yields nothing on CPU",
    "sparse": "its samples or outputs are sparse tensors; the harness passes strided tensors only",
    "unstable-samples": "the same seed gives different samples",
    "eager-error": "the op fails eagerly on its own OpInfo samples",
    "export-error": "torch.export or run_decompositions fails on every screened sample",
    "too-slow": f"screening its samples took over {ENTRY_SECONDS}s",
    "screen-error": "screening failed in an unforeseen way",
}


def entry_dtypes(entry) -> list[str]:
    supported = {str(d).removeprefix("torch.") for d in entry.supported_dtypes("cpu")}
    return [d for d in ALL_DTYPES if d in supported]


class _Excluded(Exception):
    def __init__(self, category: str, detail: str):
        super().__init__(detail)
        self.category, self.detail = category, detail


def _same(a: list, b: list) -> bool:
    return compare_outputs(a, b, tol=(0.0, 0.0))["ok"]


def _tensors(sample) -> list[torch.Tensor]:
    leaves = torch.utils._pytree.tree_leaves((sample.input, sample.args, sample.kwargs))
    return [x for x in leaves if isinstance(x, torch.Tensor)]


def _samples_equal(a, b) -> bool:
    if P.sample_description(a) != P.sample_description(b):
        return False
    return all(x.dtype == y.dtype and torch.equal(x, y) for x, y in zip(_tensors(a), _tensors(b), strict=True))


def _eager(module, inputs, seed: int) -> list:
    torch.manual_seed(seed)
    with torch.no_grad():
        return flatten_outputs(module(*[x.clone() for x in inputs]))


def _reads_uninitialized(module, inputs, plain: list) -> bool:
    """Whether the output shows uninitialised memory (torch.empty and kin).

    With deterministic algorithms on, torch fills fresh memory with NaN (integers: their
    maximum); an output that changes when that fill is on was never written by the op.
    """
    fill = torch.utils.deterministic.fill_uninitialized_memory
    torch.use_deterministic_algorithms(True)
    torch.utils.deterministic.fill_uninitialized_memory = True
    try:
        filled = _eager(module, inputs, 1)
    except Exception:  # noqa: BLE001 - no deterministic kernel: nothing learned, assume written
        return False
    finally:
        torch.use_deterministic_algorithms(False)
        torch.utils.deterministic.fill_uninitialized_memory = fill
    return not compare_outputs(plain, filled)["ok"]


def screen_sample(entry, sample) -> dict:
    """One sample: description, export error (None when it exports), what its values mean."""
    module, inputs = P.sample_program(entry.op, sample)
    try:
        first = _eager(module, inputs, 1)
    except Exception as exc:  # noqa: BLE001 - an eager failure is this sample's verdict
        return {"description": P.sample_description(sample), "eager": one_line_error(exc)}
    tensors = [x for x in first if isinstance(x, torch.Tensor)]
    layouts = {t.layout for t in tensors} - {torch.strided}
    if layouts:
        raise _Excluded("sparse", f"output layouts {sorted(map(str, layouts))}")
    # values: "exact" (compare with TVM), "random" (the output moves with the global generator:
    # only a property of it can be compared) or "undefined" (uninitialised memory: shape and dtype).
    result = {"description": P.sample_description(sample), "export": None, "values": "exact",
              "degenerate": degenerate_kind(tensors) if tensors else "no-tensor-output"}
    if _reads_uninitialized(module, inputs, first):
        result["values"] = "undefined"
    try:
        exported = torch.export.export(module, tuple(x.clone() for x in inputs)).run_decompositions()
    except Exception as exc:  # noqa: BLE001 - torch's verdict on this sample
        result["export"] = one_line_error(exc)
        return result
    result["aten_ops"] = graph_aten_ops(exported)  # what the quick profile selects by
    # OpInfo wraps random ops in wrapper_set_seed, which reseeds inside eager calls but is not
    # part of the exported graph: the exported program is what shows whether the op draws.
    if result["values"] == "exact" and not _same(_eager(exported.module(), inputs, 1),
                                                 _eager(exported.module(), inputs, 2)):
        result["values"] = "random"
    return result


def screen_dtype(entry, dtype: str, count: int) -> list[dict]:
    name, variant = entry.name, entry.variant_test_name
    try:
        first = P.samples(name, variant, dtype, SEED, count)
        again = P.samples(name, variant, dtype, SEED, count)
    except Exception as exc:  # noqa: BLE001
        raise _Excluded("samples-error", f"{dtype}: {one_line_error(exc)}") from exc
    layouts = {x.layout for s in first for x in _tensors(s)} - {torch.strided}
    if layouts:
        raise _Excluded("sparse", f"{dtype}: layouts {sorted(map(str, layouts))}")
    if len(first) != len(again) or not all(_samples_equal(a, b) for a, b in zip(first, again, strict=True)):
        raise _Excluded("unstable-samples", f"{dtype}: two generations from seed {SEED} differ")
    return [screen_sample(entry, s) for s in first]


@contextlib.contextmanager
def _deadline(seconds: int):
    def expire(signum, frame):
        raise _Excluded("too-slow", f"over {seconds}s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _exclusion(category: str, detail: str = "") -> dict:
    return {"excluded": category, "reason": CATEGORIES[category] + (f": {detail}" if detail else "")}


def screen_entry(entry) -> dict:
    """The screen's record for one op_db entry: {"excluded": category, "reason": ...} or samples."""
    dtypes = entry_dtypes(entry)
    if not dtypes:
        supported = sorted(str(d).removeprefix("torch.") for d in entry.supported_dtypes("cpu"))
        return _exclusion("no-dtype", f"CPU dtypes {supported or 'none'}")
    try:
        with _deadline(ENTRY_SECONDS):
            counts = [FIRST_DTYPE_SAMPLES] + [OTHER_DTYPE_SAMPLES] * (len(dtypes) - 1)
            per_dtype = {dtype: screen_dtype(entry, dtype, count) for dtype, count in zip(dtypes, counts, strict=True) if count}
    except _Excluded as excluded:
        return _exclusion(excluded.category, excluded.detail)
    except Exception as exc:  # noqa: BLE001 - one odd entry must not end an hour-long screen
        return _exclusion("screen-error", one_line_error(exc))
    screened = [s for samples in per_dtype.values() for s in samples]
    if not screened:
        return _exclusion("no-samples")
    ran = [s for s in screened if "eager" not in s]
    if not ran:
        return _exclusion("eager-error", screened[0]["eager"])
    if all(s["export"] for s in ran):
        return _exclusion("export-error", ran[0]["export"])
    return {"dtypes": dtypes, "samples": per_dtype}


def _materialize_cia_ops_once() -> None:
    """Make run_decompositions about twice as fast here, verdicts unchanged.

    Every call re-materialises all CompositeImplicitAutograd ops from the C++ dispatcher into
    torch.ops (torch does not cache it because a custom-op registration could add one). The
    wrapper repeats that work only when the dispatcher's list has grown since the last call.
    """
    import torch._export.utils as export_utils

    materialize = export_utils._materialize_cpp_cia_ops
    done: set[str] = set()

    def when_new() -> None:
        registered = set(torch._C._dispatch_get_registrations_for_dispatch_key("CompositeImplicitAutograd"))
        if registered - done:
            materialize()
            done.update(registered)

    export_utils._materialize_cpp_cia_ops = when_new


def main(argv: list[str] | None = None) -> int:
    from torch.testing._internal.common_methods_invocations import op_db

    parser = argparse.ArgumentParser(prog="python -m opsuite.opinfo.screen", description=__doc__.splitlines()[0])
    parser.add_argument("--entries", nargs="*", help="globs over entry ids (default: every entry)")
    parser.add_argument("--out", type=Path, default=DATA)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    torch.set_num_threads(1)
    _materialize_cia_ops_once()
    chosen = [e for e in op_db if not args.entries or any(fnmatch.fnmatchcase(opinfo_id(e), g) for g in args.entries)]
    # Progress survives a killed screen: entries already in OUT.partial are not screened again.
    partial = args.out.with_name(args.out.name + ".partial")
    entries = {}
    if partial.exists():
        for line in partial.read_text().splitlines():
            if line.strip():
                entries.update(json.loads(line))
    start = time.monotonic()
    with partial.open("a") as progress:
        for number, entry in enumerate(chosen, start=1):
            if opinfo_id(entry) in entries:
                continue
            began = time.monotonic()
            entries[opinfo_id(entry)] = {"name": entry.name, "variant": entry.variant_test_name,
                                         **screen_entry(entry)}
            progress.write(json.dumps({opinfo_id(entry): entries[opinfo_id(entry)]}) + "\n")
            progress.flush()
            outcome = entries[opinfo_id(entry)].get("excluded", "ok")
            print(f"[{number}/{len(chosen)}] {opinfo_id(entry)}: {outcome} ({time.monotonic() - began:.1f}s)",
                  file=sys.stderr, flush=True)
    data = {"torch": torch.__version__, "command": COMMAND, "seed": SEED,
            "seconds": round(time.monotonic() - start), "entries": dict(sorted(entries.items()))}
    args.out.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n")
    partial.unlink()
    print(f"wrote {args.out}: {len(entries)} entries", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

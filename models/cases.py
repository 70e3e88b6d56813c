"""Zoo rows -> harness cases: ids, the program, tolerances, profiles, dynamic-batch variants.

Ids are stable and readable: `resnet18[float32-64x64]`, `r3d_18[float32-8x112x112]` (frames
first for video), and `resnet18[float32-64x64-dynbatch]` for the dynamic-batch program, whose
per-size records the engine suffixes with `@batch=2`.
"""

from __future__ import annotations

from harness.case import Case, DynamicSpec, Program, Tolerance
from models.build import build_model, task_of
from models.zoo import DYNAMIC_BATCH, QUICK, ROWS, ModelRow, profile_models

# Tiers of (rtol = atol) for unit-scale outputs, and how far above the model's own float32
# rounding noise (float32 eager against float64 eager) the tier must lie. Outputs are
# calibrated to a standard deviation of order one, so an absolute floor is meaningful.
TIERS = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2)
NOISE_MARGIN = 30.0

# The batch sizes a dynamic-batch program runs at; the program is exported at batch 2 (an
# example of size 1 would make torch.export specialise the dimension) for batch in [1, 16].
BATCH_SIZES = (1, 2, 4)
BATCH_RANGE = (1, 16)


def tolerance(row: ModelRow) -> Tolerance:
    """The row's own tolerance, or one tier above its measured float32 noise."""
    if row.tolerance is not None:
        return row.tolerance
    noise = row.noise if row.noise is not None else 0.0
    tier = next((t for t in TIERS if t >= NOISE_MARGIN * noise), TIERS[-1])
    return Tolerance(
        rtol=tier, atol=tier,
        reason=(f"outputs are calibrated to unit scale; float32 eager differs from float64 eager "
                f"by {noise:.1e} (relative L2) on these weights, and TVM may sum in another order: "
                f"the smallest of {', '.join(f'{t:g}' for t in TIERS)} at least {NOISE_MARGIN:g}x that"))


def input_label(row: ModelRow) -> str:
    height, width = row.hw
    spatial = f"{height}x{width}"
    return f"{row.frames}x{spatial}" if row.frames is not None else spatial


def _kwargs(row: ModelRow, seed: int) -> dict:
    height, width = row.hw
    kwargs = {"name": row.name, "seed": seed, "height": height, "width": width}
    if row.frames is not None:
        kwargs["frames"] = row.frames
    if row.options:
        kwargs["options"] = dict(row.options)
    return kwargs


def _meta(row: ModelRow) -> dict:
    return {"task": task_of(row.name), "input": input_label(row), "input_reason": row.why,
            "note": f"rebuild with build_model(**KWARGS) from models/build.py ({row.name}, seed and sizes)"}


def _tracing(row: ModelRow, seed: int) -> Program | None:
    """The model without its calibration pass, which is most of what a detector costs before
    export (keypointrcnn_resnet50_fpn: 170 s of 8 images, then 21 s for the reference, against
    2 s to fail at export); a quantised model has no such form."""
    if task_of(row.name) == "quantized":
        return None
    return Program(build_model, {**_kwargs(row, seed), "calibrated": False})


def model_case(row: ModelRow, seed: int) -> Case:
    return Case(
        case_id=f"{row.name}[float32-{input_label(row)}]", kind="model", op=row.name,
        program=Program(build_model, _kwargs(row, seed)), dtype="float32", seed=seed,
        tolerance=tolerance(row), timeout=row.timeout,
        cost=row.cost, meta=_meta(row), tracing=_tracing(row, seed))


def dynamic_batch_case(row: ModelRow, seed: int) -> Case:
    """The same model exported once with a symbolic batch, run at each of BATCH_SIZES."""
    inputs = 2 if task_of(row.name) == "optical_flow" else 1
    return Case(
        case_id=f"{row.name}[float32-{input_label(row)}-dynbatch]", kind="dynamic", op=row.name,
        program=Program(build_model, {**_kwargs(row, seed), "batch": 2}), dtype="float32", seed=seed,
        tolerance=tolerance(row),
        dynamic=DynamicSpec(dims={"batch": BATCH_RANGE}, shapes=({0: "batch"},) * inputs,
                            sizes=tuple({"batch": b} for b in BATCH_SIZES)),
        timeout=row.timeout * 2, cost=row.cost * 2, meta={**_meta(row), "dynamic": "batch"})


def cases(profile: str, seed: int, wanted=None) -> list[Case]:
    """`quick`: a handful of small models for CI; `nightly`: every model of the zoo. Known
    failures come from opsuite/expectations/known_failures/models.toml, as for ops. `wanted`
    (a model name -> bool) leaves out the models a selection cannot match."""
    from opsuite.expectations.entries import attach

    chosen = [model_case(ROWS[name], seed) for name in profile_models(profile) if wanted is None or wanted(name)]
    chosen += [dynamic_batch_case(ROWS[name], seed) for name in DYNAMIC_BATCH
               if (profile != "quick" or name in QUICK[:1]) and (wanted is None or wanted(name))]
    return attach(chosen)

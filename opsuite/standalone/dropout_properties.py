"""Property checks for dropout in training mode, whose values are random.

Self-contained on purpose (imports only torch and math): repro scripts embed this file. A
check is `check(expected, actual, inputs) -> None or a one-line mismatch message`; the engine
has already compared the outputs' count, shapes and dtypes.

Dropout keeps each element with probability 1 - p and scales it by 1 / (1 - p). The input
is nonzero everywhere, so a zero output marks a dropped element. Eager's output gives the
scale (hence p); TVM's output must use the same scale, zero the rest, and keep a fraction
of elements within five binomial standard deviations of 1 - p.
"""

import math

import torch


def _scale(output: torch.Tensor, x: torch.Tensor) -> float | None:
    """The factor kept elements were multiplied by, or None when nothing was kept."""
    kept = output != 0
    if not bool(kept.any()):
        return None
    return float((output[kept].double() / x[kept].double()).median())


def _judge(out: torch.Tensor, x: torch.Tensor, expected_out: torch.Tensor, mask: torch.Tensor | None):
    n = x.numel()
    if n == 0:
        return None
    want = _scale(expected_out, x)
    if want is None:  # p = 1: everything dropped
        if bool((out != 0).any()):
            return "dropout with p=1 kept elements"
        return None
    kept = out != 0
    got_scale = float("nan") if not bool(kept.any()) else _scale(out, x)
    if not bool(kept.any()) and want < 50:
        return "dropout dropped every element although eager's scale implies p < 0.98"
    tol = 1e-2 if x.dtype in (torch.float16, torch.bfloat16) else 1e-5
    if bool(kept.any()) and not math.isclose(got_scale, want, rel_tol=tol):
        return f"kept elements are scaled by {got_scale:.6g}, eager scales by {want:.6g} (p={1 - 1 / want:.3g})"
    scaled = x.double() * want
    bad = kept & ((out.double() - scaled).abs() > tol * scaled.abs() + 1e-6)
    if bool(bad.any()):
        return f"{int(bad.sum())} kept elements are not input * {want:.6g}"
    keep = 1 / want
    fraction = float(kept.double().mean())
    spread = 5 * math.sqrt(keep * (1 - keep) / n) + 1 / n
    if abs(fraction - keep) > spread:
        return f"kept {fraction:.3f} of {n} elements, expected {keep:.3f} +- {spread:.3f}"
    if mask is not None and not bool((mask == kept).all()):
        return "the mask output does not mark the kept elements"
    return None


def dropout_train(expected: list, actual: list, inputs: tuple):
    """dropout(x, p, train=True) and dropout_: one output, x's dropped elements zero, the others
    scaled by eager's 1 / (1 - p), about 1 - p of them kept."""
    return _judge(actual[0], inputs[0], expected[0], None)


def native_dropout_train(expected: list, actual: list, inputs: tuple):
    """native_dropout(x, p, train=True) -> (out, mask): as dropout_train, and the boolean mask marks
    exactly the kept elements."""
    return _judge(actual[0], inputs[0], expected[0], actual[1])

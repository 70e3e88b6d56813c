"""Property checks for ordering ops whose output order is unspecified (topk with sorted=False).

Self-contained on purpose (imports only torch): repro scripts embed this file. A check is
`check(expected, actual, inputs) -> None or a one-line mismatch message`; the engine has
already compared the outputs' count, shapes and dtypes.
"""

import torch


def _same_values(expected: torch.Tensor, actual: torch.Tensor) -> bool:
    """Equal elementwise, NaN equal to NaN: values picked from the input must match exactly."""
    equal = expected == actual
    if expected.is_floating_point():
        equal |= torch.isnan(expected) & torch.isnan(actual)
    return bool(equal.all())


def topk_unsorted(expected: list, actual: list, inputs: tuple):
    """topk(x, k, dim=-1, sorted=False): per row, the same k values as eager in any order, and
    indices that point at them.

    Sorting both value sets along the last dim compares them as multisets; gathering the input
    at TVM's indices must give TVM's values.
    """
    x, values, indices = inputs[0], actual[0], actual[1]
    if values.numel() == 0:
        return None
    want = torch.sort(expected[0].double(), dim=-1).values
    got = torch.sort(values.double(), dim=-1).values
    if not _same_values(want, got):
        return "topk(sorted=False): the selected values differ from eager's as a set"
    rows = x.reshape(1) if x.dim() == 0 else x
    flat_indices = indices.reshape(rows.shape[:-1] + (-1,))
    if bool(((flat_indices < 0) | (flat_indices >= rows.shape[-1])).any()):
        return "topk(sorted=False): an index is out of range"
    picked = torch.gather(rows, -1, flat_indices)
    if not _same_values(picked.double(), values.double().reshape(picked.shape)):
        return "topk(sorted=False): the input at the returned indices is not the returned values"
    return None

"""Program factory for aten._assert_tensor_metadata: an assertion that returns nothing.

Self-contained on purpose (imports only torch): a repro script embeds this file verbatim.
The op's own output is None, which would leave nothing to compare; the program asserts the
input's metadata, then returns a computation on it, so a converter that mishandles the
assertion (drops the input, breaks the graph) shows as a failure or a wrong value.
`metadata_program("aten._assert_tensor_metadata.default", args=[x], kwargs={"dtype": ...})`.
"""

import torch


class AssertThenUse(torch.nn.Module):
    def __init__(self, kwargs):
        super().__init__()
        self.kwargs = kwargs

    def forward(self, x):
        torch.ops.aten._assert_tensor_metadata.default(x, **self.kwargs)
        return x * 2 + 1


def metadata_program(op, args=(), kwargs=None):
    """The module and its single input; `op` is always aten._assert_tensor_metadata.default."""
    assert op == "aten._assert_tensor_metadata.default", op
    (x,) = args
    return AssertThenUse(dict(kwargs or {})), (x,)

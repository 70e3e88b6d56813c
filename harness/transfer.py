"""Values across the boundary: torch inputs onto a TVM device, TVM's results back as torch values.

Kept apart from the stages so the device path is exercised without a GPU: every conversion
takes the device as an argument, and a CUDA result comes back through the same host copy a CPU
result skips. The dtypes that need care:

- bfloat16: NumPy has no such dtype; the bits go through an int16 view into ml_dtypes.bfloat16,
  which TVM reads as its bfloat16.
- float16, bool: plain NumPy dtypes both ways; a bool result comes back as torch.bool through
  DLPack (TVM's bool tensors are 8-bit, as torch's are).
- empty and non-contiguous tensors: inputs go through NumPy, not DLPack, because torch hands
  out strides for size-0 dims that TVM's argument check rejects although the data is compact.

Results come back with TVM's own copy (`copyfrom`, synchronous) to a host tensor and then
through DLPack; torch never touches device memory, so the worker needs no torch CUDA context.
"""

from __future__ import annotations

import numpy as np
import torch

_KDL_CPU = 1  # DLPack's device type for host memory


def to_numpy(tensor: torch.Tensor) -> np.ndarray:
    """A compact host array with the tensor's dtype (bfloat16 as ml_dtypes.bfloat16)."""
    tensor = tensor.detach().cpu().contiguous()
    if tensor.dtype == torch.bfloat16:
        import ml_dtypes

        return tensor.view(torch.int16).numpy().view(ml_dtypes.bfloat16)
    return tensor.numpy()


def to_device(tensor: torch.Tensor, device):
    """A TVM tensor on `device` holding a copy of `tensor`."""
    import tvm

    return tvm.runtime.tensor(to_numpy(tensor), device)


def device_inputs(tensors, device) -> list:
    return [to_device(t, device) for t in tensors]


def to_host(value):
    """`value` if it is in host memory, else a host copy made by TVM."""
    return value if value.device.dlpack_device_type() == _KDL_CPU else host_copy(value)


def host_copy(value):
    """A new host tensor with `value`'s shape, dtype and contents, copied by TVM from any device."""
    import tvm

    host = tvm.runtime.empty(value.shape, value.dtype, tvm.cpu(0))
    host.copyfrom(value)
    return host


def to_torch(value) -> torch.Tensor:
    """A TVM tensor (on any device) as a torch CPU tensor of the same dtype, owning its memory."""
    return torch.from_dlpack(to_host(value)).clone()


def tvm_outputs(value) -> list:
    """TVM VM results (tensors, nested arrays, shapes, scalars) as a flat list of torch values."""
    import tvm_ffi

    if value is None:  # dropped as eager's None outputs are (absent gradients); a count mismatch still shows
        return []
    if isinstance(value, tvm_ffi.Tensor):
        return [to_torch(value)]
    if isinstance(value, tvm_ffi.Shape):
        return [int(v) for v in value]
    if isinstance(value, tvm_ffi.Array | list | tuple):
        return [leaf for item in value for leaf in tvm_outputs(item)]
    if isinstance(value, bool | int | float):
        return [value]
    raise TypeError(f"unexpected TVM output of type {type(value).__name__}")

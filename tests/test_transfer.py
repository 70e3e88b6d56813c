"""The run path's conversions, proved without a GPU: every dtype the suite uses goes to a TVM
device and back unchanged, through the very functions a CUDA run calls (the device is an
argument; a result on a device comes back through `host_copy`, exercised here from the host)."""

import numpy as np
import pytest
import torch
import tvm

from harness import transfer

DTYPES = [torch.float32, torch.float16, torch.bfloat16, torch.float64, torch.int8, torch.uint8,
          torch.int16, torch.int32, torch.int64, torch.bool]


def _sample(dtype, shape=(3, 4)):
    gen = torch.Generator().manual_seed(0)
    values = torch.randn(shape, generator=gen, dtype=torch.float64).mul(50)
    return (values > 0) if dtype == torch.bool else values.to(dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("shape", [(3, 4), (0, 5), ()], ids=["3x4", "empty", "scalar"])
def test_a_tensor_goes_to_the_device_and_comes_back_unchanged(dtype, shape):
    x = _sample(dtype, shape)
    on_device = transfer.to_device(x, tvm.cpu(0))
    assert tuple(on_device.shape) == tuple(x.shape)
    assert str(on_device.dtype) == str(dtype).removeprefix("torch.")
    for back in (transfer.to_torch(on_device), torch.from_dlpack(transfer.host_copy(on_device))):
        assert back.dtype == dtype and back.device.type == "cpu"
        assert torch.equal(back, x)


def test_bfloat16_keeps_its_bits():
    x = torch.tensor([1.0, -0.0, float("inf"), float("nan"), 3.0e38, 1.0e-40], dtype=torch.bfloat16)
    array = transfer.to_numpy(x)
    assert array.dtype.name == "bfloat16" and array.view(np.int16).tolist() == x.view(torch.int16).tolist()
    back = transfer.to_torch(transfer.to_device(x, tvm.cpu(0)))
    assert back.view(torch.int16).tolist() == x.view(torch.int16).tolist()


def test_non_contiguous_and_zero_size_inputs_are_sent_compact():
    x = torch.arange(12, dtype=torch.float32).reshape(3, 4).t()
    assert not x.is_contiguous()
    assert torch.equal(transfer.to_torch(transfer.to_device(x, tvm.cpu(0))), x)
    empty = torch.empty(3, 0).expand(2, 3, 0)
    assert tuple(transfer.to_device(empty, tvm.cpu(0)).shape) == (2, 3, 0)


def test_a_host_copy_is_a_new_tensor_and_a_host_result_is_not_copied():
    x = transfer.to_device(_sample(torch.float16), tvm.cpu(0))
    assert transfer.to_host(x) is x
    copy = transfer.host_copy(x)
    assert copy is not x and copy.data_ptr() != x.data_ptr()


def test_vm_results_of_every_kind_come_back_as_torch_values():
    from tvm.relax.frontend.torch import from_exported_program

    class Outputs(torch.nn.Module):
        def forward(self, x, y):
            return x > 0, x.to(torch.bfloat16) * 2, (y + 1, x.shape[0] * x.sum()), x.half()

    inputs = (torch.randn(3, 2), torch.arange(4, dtype=torch.int64))
    ep = torch.export.export(Outputs(), inputs).run_decompositions()
    vm = tvm.relax.VirtualMachine(tvm.compile(from_exported_program(ep, run_ep_decomposition=False),
                                              target=tvm.target.Target("llvm")), tvm.cpu())
    got = transfer.tvm_outputs(vm["main"](*transfer.device_inputs(inputs, tvm.cpu())))
    expected = torch.utils._pytree.tree_flatten(Outputs()(*inputs))[0]
    assert [g.dtype for g in got] == [e.dtype for e in expected]
    assert [torch.bool, torch.bfloat16, torch.int64, torch.float32, torch.float16] == [g.dtype for g in got]
    for g, e in zip(got, expected, strict=True):
        torch.testing.assert_close(g, e)
    assert transfer.tvm_outputs(None) == [] and transfer.tvm_outputs(tvm.runtime.ShapeTuple([2, 3])) == [2, 3]

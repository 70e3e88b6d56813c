"""Repro scripts carry every constant argument of a case, memory formats included."""

import base64
import io

import pytest
import torch

from harness import repro


@pytest.mark.parametrize("value", [torch.channels_last, torch.preserve_format, torch.contiguous_format,
                                   torch.channels_last_3d])
def test_memory_formats_survive_the_repro_blob(value):
    kwargs = {"args": [torch.arange(4)], "kwargs": {"memory_format": value, "dtype": torch.int8}}
    loaded = torch.load(io.BytesIO(base64.b64decode(repro._blob(kwargs))), weights_only=False)
    assert loaded["kwargs"]["memory_format"] is value
    assert loaded["kwargs"]["dtype"] is torch.int8
    assert torch.equal(loaded["args"][0], torch.arange(4))

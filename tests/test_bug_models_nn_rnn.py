"""The float16 lstm model unrolls torch's recurrence (checked in float32 against torch's own
lstm) and accumulates its matmuls in the dtype, as relax.matmul without out_dtype does."""

from __future__ import annotations

import torch

from opsuite.expectations.bug_models import nn_rnn


def test_the_unrolled_lstm_is_torchs_recurrence_in_float32():
    torch.manual_seed(0)
    layer = torch.nn.LSTM(3, 2, bidirectional=True, batch_first=True, bias=True)
    x, h0, c0 = torch.randn(2, 4, 3), torch.randn(2, 2, 2), torch.randn(2, 2, 2)
    expected, _ = layer(x, (h0, c0))
    params = [p.detach() for p in layer._flat_weights]
    got = nn_rnn._lstm_sequence_in_dtype(x, (h0, c0), params, True, 1, 0.0, False, True, True)
    torch.testing.assert_close(got, expected.detach())


def test_a_half_matmul_sum_is_rounded_at_every_term():
    a = torch.tensor([[1.0, 2.0 ** -11, 2.0 ** -11]], dtype=torch.float16)
    got = nn_rnn._matmul_in_dtype(a, torch.ones(3, 1, dtype=torch.float16))
    assert got.item() == 1.0  # a float32 accumulation rounds 1 + 2**-10 to 1.000977 once

"""Models of the recurrent converters' known bugs (known_failures/nn_rnn.toml)."""

from __future__ import annotations


def sequence_for_every_output(module, inputs):
    """The lstm and gru converters (exported_program_translator.py `_lstm`, `_gru`) unroll the
    recurrence right but return the output sequence alone; torch's getitem 1 (h_n) and 2 (c_n)
    then read it back unchanged (the importer's `_getitem` returns a tensor as it is for an
    integer index), so every output is the sequence, as torch's own op computes it."""
    outputs = module(*inputs)
    return [outputs[0]] * len(outputs)

"""Recurrent layers: lstm.input, gru.input, rnn_tanh.input.

A drawing covers layers (1 or 2), direction (bidirectional or not), batch_first, biases or
none, and train=True with dropout 0 (deterministic, yet a different flag). Weights come
from the `small` domain so a few time steps neither saturate nor blow up.
"""

from __future__ import annotations

from hypothesis import strategies as st

from opsuite.draw import shapes as S
from opsuite.draw.context import Ctx, Generator, call
from opsuite.table.row import FLOATS, OpRow

GATES = {"lstm": 4, "gru": 3, "rnn_tanh": 1}


def rnn(kind: str) -> Generator:
    """{kind}(input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first).

    params is flat, per layer and direction: w_ih[G*H, in], w_hh[G*H, H] and, with biases,
    b_ih[G*H], b_hh[G*H]; a layer after the first takes H * directions inputs. hx is h0 (and
    c0 for lstm), each [layers * directions, B, H].
    """
    gates = GATES[kind]

    def calls(ctx: Ctx):
        @st.composite
        def draw(d):
            steps, batch = d(S.sides(3, empty=False)), d(S.sides(2, empty=False))
            features, hidden = d(S.sides(3, empty=False)), d(S.sides(3, empty=False))
            layers, bidirectional = d(st.sampled_from((1, 2))), d(st.booleans())
            biases, batch_first, train = d(st.booleans()), d(st.booleans()), d(st.booleans())
            directions = 2 if bidirectional else 1
            params = []
            for layer in range(layers):
                fan_in = features if layer == 0 else hidden * directions
                for _ in range(directions):
                    params += [d(ctx.tensors((gates * hidden, fan_in), "small")),
                               d(ctx.tensors((gates * hidden, hidden), "small"))]
                    if biases:
                        params += [d(ctx.tensors((gates * hidden,), "small")) for _ in range(2)]
            x = d(ctx.tensors((batch, steps, features) if batch_first else (steps, batch, features)))
            state = [d(ctx.tensors((layers * directions, batch, hidden), "small"))
                     for _ in range(2 if kind == "lstm" else 1)]
            hx = state if kind == "lstm" else state[0]
            label = [f"l{layers}", "bi" if bidirectional else "uni", "bias" if biases else "nobias",
                     "batchfirst" if batch_first else "seqfirst", "train" if train else "eval", f"t{steps}"]
            return call(x, hx, params, biases, layers, 0.0, train, bidirectional, batch_first, variant="-".join(label))

        return draw()

    return calls


# The importer has its own lstm/gru/rnn_tanh converters; run_decompositions would unroll the
# recurrence into matmuls first, so decompose=False is the only way those converters run.
# OpInfo has no lstm/gru/rnn_tanh entry; eager's CPU kernels (matmuls against float weights)
# take floating inputs only.
ROWS = [
    OpRow("aten.lstm.input", rnn("lstm"), FLOATS, decompose=False),
    OpRow("aten.gru.input", rnn("gru"), FLOATS, decompose=False),
    OpRow("aten.rnn_tanh.input", rnn("rnn_tanh"), FLOATS, decompose=False),
]

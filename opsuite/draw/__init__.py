"""How a row's arguments are drawn: hypothesis strategies, and values from seeds.

    context.py    Ctx (a dtype and a value tier; each operand drawn with its own seed), Call,
                  call(), variant(), scalar_values()
    shapes.py     every shape strategy, dims and broadcasting
    values.py     tensors from a seed (domains, edge tier, layouts), Python scalars, transforms
    calls.py      the call generators many rows share (unary, pair, tensor-scalar, in-place, ...)
    size_args.py  size-like arguments: reshape and expand targets, permutations, split sizes,
                  slice bounds, memory formats, dtype arguments
    windows.py    sliding windows (kernel, stride, padding, dilation) and input sides they fit
    distinct.py   tensors without ties, for ops whose indices are ambiguous under ties

Strategies are typed functions that validate their arguments and return a strategy; a row's
own generator (opsuite/table/) combines them.
"""

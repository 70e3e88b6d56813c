"""Did the dynamic dims survive the import? A check of the Relax function against torch.export.

Self-contained on purpose (imports only the standard library, torch and TVM): a repro script
embeds this file verbatim and runs the same check.

torch.export names its symbols itself (`s77`, `u0`); the importer keeps those names for TIR
variables and for the `tir_var_lower_bound` / `tir_var_upper_bound` attributes. So the check
first maps each declared dim (`b`) to the torch symbol that carries it, read from the exported
placeholders, then asks of the Relax function:

- every declared axis of every input is the same symbolic expression as in torch (not an
  integer: a function specialised to the example size is a failure of its own kind), and the
  inputs that share a dim share one TIR variable;
- each declared range reaches the module as that symbol's bounds;
- every output dim that torch computes from input symbols is symbolic in Relax too, and equal
  to torch's at the range ends (this catches a converter that bakes in the example size).

`symbolic_check(dims, shapes, ep, mod)` returns plain data: `dims` (declared name -> torch symbol),
`bounds` (declared name -> the module's [lower, upper]), `problems` (what makes the stage fail)
and `notes` (facts worth recording that are not the importer's fault, e.g. torch narrowing a
declared range, or an output whose shape Relax does not know).
"""

import math
import re

import torch

_NAME = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")


def _user_values(ep, kinds):
    """The `val` metadata of the user inputs (placeholders) or user outputs, in order."""
    if kinds == "inputs":
        names = list(ep.graph_signature.user_inputs)
        nodes = {n.name: n for n in ep.graph.nodes if n.op == "placeholder"}
        return [nodes[name].meta.get("val") for name in names]
    output = next(n for n in ep.graph.nodes if n.op == "output")
    leaves = list(output.args[0]) if isinstance(output.args[0], tuple | list) else [output.args[0]]
    specs = ep.graph_signature.output_specs
    kind = torch.export.graph_signature.OutputKind
    if len(specs) == len(leaves):
        leaves = [leaf for leaf, spec in zip(leaves, specs, strict=True)
                  if spec.kind in (kind.USER_OUTPUT, kind.LOSS_OUTPUT)]
    return [leaf.meta.get("val") if hasattr(leaf, "meta") else leaf for leaf in leaves]


def _relax_shapes(ty):
    """Flattened per-tensor shapes of a Relax type: a list of dim lists, or None where unknown."""
    fields = getattr(ty, "fields", None)
    if fields is not None:
        return [shape for field in fields for shape in _relax_shapes(field)]
    shape = getattr(ty, "shape", None)
    values = getattr(shape, "values", None)
    return [list(values) if values is not None else None]


def _is_int(dim):
    from tvm import tirx

    return isinstance(dim, tirx.IntImm)


def _eval_tir(expr, values):
    """Integer value of a TIR shape expression with its variables bound by name; None if unknown."""
    from tvm import tirx

    if isinstance(expr, tirx.IntImm):
        return int(expr.value)
    if isinstance(expr, tirx.Var):
        return values.get(expr.name)
    binary = {tirx.Add: lambda a, b: a + b, tirx.Sub: lambda a, b: a - b,
              tirx.Mul: lambda a, b: a * b, tirx.FloorDiv: lambda a, b: a // b,
              tirx.FloorMod: lambda a, b: a % b, tirx.Min: min, tirx.Max: max}
    for kind, fn in binary.items():
        if isinstance(expr, kind):
            a, b = _eval_tir(expr.a, values), _eval_tir(expr.b, values)
            return None if a is None or b is None else fn(a, b)
    return None


def _eval_torch(dim, values):
    if isinstance(dim, int):
        return dim
    expr = dim.node.expr
    try:
        return int(expr.subs({s: values[str(s)] for s in expr.free_symbols}))
    except (KeyError, TypeError, ValueError):
        return None


def _free(dim):
    return set() if isinstance(dim, int) else {str(s) for s in dim.node.expr.free_symbols}


def _symbol_ranges(ep):
    ranges = {}
    for symbol, value_range in ep.range_constraints.items():
        if symbol.is_Symbol:
            lower, upper = float(value_range.lower), float(value_range.upper)
            ranges[str(symbol)] = (None if math.isinf(lower) else int(lower),
                                   None if math.isinf(upper) else int(upper))
    return ranges


def _assignments(dims, symbols):
    """Symbol values to evaluate shapes at: every dim at its min, then at its max."""
    return [{symbols[name]: bounds[end] for name, bounds in dims.items() if name in symbols}
            for end in (0, 1)]


def symbolic_check(dims, shapes, ep, mod):
    """The check as data; `dims` {name: (min, max)}, `shapes` per input {axis: expression}."""
    problems, notes = [], []
    symbols = {}
    inputs = _user_values(ep, "inputs")
    params = list(mod["main"].params)
    relax_vars = {}  # torch symbol -> the TIR variable objects seen for it in the signature
    for index, axes in enumerate(shapes):
        if not axes:
            continue
        if index >= len(inputs) or index >= len(params):
            problems.append(f"input {index} is declared dynamic but the program has no such input")
            continue
        relax_shape = _relax_shapes(params[index].ty)[0]
        for axis, expr in sorted((int(a), e) for a, e in axes.items()):
            torch_dim = inputs[index].shape[axis]
            where = f"input {index} axis {axis} ({expr})"
            if isinstance(torch_dim, int):
                problems.append(f"{where}: torch.export specialised it to {torch_dim}")
                continue
            names = [n for n in _NAME.findall(expr) if n in dims]
            free = _free(torch_dim)
            if len(names) == 1 and len(free) == 1:
                (name,), (symbol,) = names, free
                if symbols.setdefault(name, symbol) != symbol:
                    problems.append(f"{where}: dim {name} is torch symbol {symbols[name]} elsewhere, {symbol} here")
            if relax_shape is None:
                problems.append(f"{where}: the Relax signature has no shape for input {index}")
                continue
            relax_dim = relax_shape[axis]
            if _is_int(relax_dim):
                problems.append(f"{where}: specialised to {int(relax_dim.value)} in the Relax signature")
                continue
            from tvm import tirx

            for var in tirx.analysis.undefined_vars(relax_dim):
                seen = relax_vars.setdefault(var.name, [])
                if not any(var.same_as(other) for other in seen):
                    seen.append(var)
            for values in _assignments(dims, symbols):
                want, got = _eval_torch(torch_dim, values), _eval_tir(relax_dim, values)
                if want is not None and got is not None and want != got:
                    problems.append(f"{where}: Relax has {relax_dim} where torch has {torch_dim.node.expr}")
                    break
    for symbol, seen in relax_vars.items():
        if len(seen) > 1:
            problems.append(f"symbol {symbol} is {len(seen)} different TIR variables in the signature")

    attrs = mod["main"].attrs or {}
    lower = {str(k): int(v) for k, v in dict(attrs.get("tir_var_lower_bound", {}) or {}).items()}
    upper = {str(k): int(v) for k, v in dict(attrs.get("tir_var_upper_bound", {}) or {}).items()}
    exported = _symbol_ranges(ep)
    bounds = {}
    for name, (lo, hi) in dims.items():
        symbol = symbols.get(name)
        if symbol is None:
            problems.append(f"dim {name} matches no torch symbol on a declared axis")
            continue
        module = (lower.get(symbol), upper.get(symbol))
        bounds[name] = list(module)
        torch_range = exported.get(symbol)
        if torch_range is not None and tuple(torch_range) != (lo, hi):
            notes.append(f"torch.export narrowed {name} from [{lo}, {hi}] to {list(torch_range)}")
        if module != (torch_range or (lo, hi)):
            problems.append(f"declared range {name} in [{lo}, {hi}] reaches the module as "
                            f"[{module[0]}, {module[1]}] on {symbol}")

    outputs = _user_values(ep, "outputs")
    relax_outputs = _relax_shapes(mod["main"].ret_ty)
    tensors = [(i, v) for i, v in enumerate(outputs) if isinstance(v, torch.Tensor)]
    if len(tensors) != len(relax_outputs):
        notes.append(f"{len(relax_outputs)} Relax outputs for {len(tensors)} torch outputs: not compared")
        tensors = []
    backed = set(symbols.values())
    for (index, value), relax_shape in zip(tensors, relax_outputs, strict=False):
        if relax_shape is None:
            if any(not isinstance(d, int) for d in value.shape):
                notes.append(f"output {index}: shape unknown to Relax (torch: {list(value.shape)})")
            continue
        for axis, torch_dim in enumerate(value.shape):
            free = _free(torch_dim)
            if not free or not free <= backed or axis >= len(relax_shape):
                continue
            relax_dim = relax_shape[axis]
            where = f"output {index} axis {axis} ({torch_dim.node.expr})"
            if _is_int(relax_dim):
                problems.append(f"{where}: specialised to {int(relax_dim.value)} in Relax")
                continue
            for values in _assignments(dims, symbols):
                want, got = _eval_torch(torch_dim, values), _eval_tir(relax_dim, values)
                if want is not None and got is not None and want != got:
                    problems.append(f"{where}: Relax computes {relax_dim} = {got} where torch has {want}")
                    break
    return {"dims": symbols, "bounds": bounds, "problems": problems, "notes": notes}

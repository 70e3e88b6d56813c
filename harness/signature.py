"""One-line errors and normalised error signatures, so that equal bugs group together."""

from __future__ import annotations

import re

_UNSUPPORTED = re.compile(r"Unsupported function types? \[(.*?)\]", re.S)

# TVM prints an operator as its full reflection repr (span, arguments, attrs: ~250 characters)
# before saying what is wrong; its name is all that matters, and the rest would be cut off.
_OP_REPR = re.compile(r'ir\.Op\(span=.*?name="([\w.]+)".*?support_level=\d+\)')

# Lines that carry no information about the bug itself.
_NOISE = re.compile(
    r"^(Traceback \(most recent call last\)|File \"|  File |\s*\^+\s*$|During handling|"
    r"The above exception|\s*$)"
)

_SUBSTITUTIONS = [
    # One bug shows through many operators (every unary float op rejecting int input) and many
    # dtypes; the record's op and dtype fields still say which.
    (re.compile(r"\bOp\(relax\.[\w.]+\)"), "Op(relax.?)"),
    (re.compile(r"\b(T\.)?(bfloat16|float(16|32|64)|u?int(8|16|32|64)|bool)\b"), "<dtype>"),
    (re.compile(r"0x[0-9a-fA-F]+"), "0x?"),
    (re.compile(r"(/[\w.\-+]+)+\.(py|cc|h|cpp|so)(:\d+)?"), "<file>"),
    (re.compile(r"/tmp/[\w./\-]+"), "<tmp>"),
    # FX node names in a printed graph (%detach_, %detach__1): the call beside them names the op.
    (re.compile(r"%\w+"), "%?"),
    # Relax/TIR/FX variable names: lv12, gv3, v_4, alloc7, s77, arg0_1, x_1, add_3, ...
    (re.compile(r"\b(lv|gv|v|alloc|storage|s|arg|primals|buf|sym|p|u|tmp)_?\d+(_\d+)?\b"), r"\1?"),
    (re.compile(r"\b([A-Za-z]+)_\d+\b"), r"\1_?"),
    (re.compile(r"(?<!\w)[-+]?\d+(\.\d+)?([eE][-+]?\d+)?"), "N"),
    (re.compile(r"\s+"), " "),
]


def _sorted_unsupported(found: re.Match) -> str:
    # The importer lists the ops it lacks from a Python set: the order changes run to run.
    names = sorted(re.findall(r"'[^']+'", found.group(1)))
    return found.group(0).replace(found.group(1), ", ".join(names))


def first_line(message: str, limit: int = 300) -> str:
    """The first informative line of an exception message."""
    for line in str(message).splitlines():
        if not _NOISE.match(line):
            line = _OP_REPR.sub(r"Op(\1)", line.strip())
            line = _UNSUPPORTED.sub(_sorted_unsupported, line)
            return line if len(line) <= limit else line[: limit - 3] + "..."
    return ""


def one_line_error(exc: BaseException) -> str:
    line = first_line(str(exc))
    return f"{type(exc).__name__}: {line}" if line else type(exc).__name__


def normalise(message: str) -> str:
    text = message
    for pattern, repl in _SUBSTITUTIONS:
        text = pattern.sub(repl, text)
    return text.strip()


def error_signature(stage: str, error: str | None) -> str | None:
    """`stage: normalised error`: numbers, addresses, paths and variable names replaced."""
    if not error:
        return None
    return f"{stage}: {normalise(error)}"


def unsupported_names(message: str) -> set[str] | None:
    """The names in the importer's 'Unsupported function types [...]' message, as it wrote them
    (each a graph node's `target.__name__`: `sin.default`), or None for another message."""
    found = _UNSUPPORTED.search(str(message))
    return set(re.findall(r"'([^']+)'", found.group(1))) if found else None


def unsupported_ops(message: str) -> list[str] | None:
    """The op names in the importer's 'Unsupported function types [...]' message, as aten overloads."""
    names = unsupported_names(message)
    if names is None:
        return None
    return sorted({n if n.startswith("aten.") or "." not in n else f"aten.{n}" for n in names})

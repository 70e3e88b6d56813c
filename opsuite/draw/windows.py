"""Sliding-window arguments (kernel, stride, padding, dilation) and input sizes they fit.

Convolutions, pools and col2im share the arithmetic: an input side n gives
floor((n + 2p - d(k - 1) - 1) / s) + 1 outputs, so a window is drawn first and the input
sides are drawn large enough for at least one output. Arguments are spelled the ways the
schemas accept: a full list, a bare int when every side is equal, and for a pool's stride
an empty list (meaning "the kernel size").
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st


@dataclass(frozen=True)
class Window:
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    dilation: tuple[int, ...]

    def min_input(self, axis: int) -> int:
        """The smallest input side giving one output along `axis`."""
        reach = self.dilation[axis] * (self.kernel[axis] - 1) + 1
        return max(1, reach - 2 * self.padding[axis])

    def outputs(self, size: int, axis: int) -> int:
        """Output count along `axis` for an input side `size` (floor mode)."""
        reach = self.dilation[axis] * (self.kernel[axis] - 1) + 1
        return (size + 2 * self.padding[axis] - reach) // self.stride[axis] + 1


def windows(nd: int, max_kernel: int = 3, max_stride: int = 2, max_dilation: int = 2,
            pool: bool = False) -> st.SearchStrategy[Window]:
    """Windows over `nd` spatial dims; `pool` keeps padding within half the kernel, as pools require.

    >>> windows(2).example()  # doctest: +SKIP
    Window(kernel=(3, 1), stride=(2, 1), padding=(0, 1), dilation=(1, 2))
    """
    if nd < 1 or max_kernel < 1 or max_stride < 1 or max_dilation < 1:
        raise ValueError("nd, max_kernel, max_stride and max_dilation must be >= 1")

    @st.composite
    def draw(d):
        kernel = tuple(d(st.integers(1, max_kernel)) for _ in range(nd))
        stride = tuple(d(st.integers(1, max_stride)) for _ in range(nd))
        dilation = tuple(d(st.integers(1, max_dilation)) for _ in range(nd))
        padding = tuple(d(st.integers(0, k // 2 if pool else 2)) for k in kernel)
        return Window(kernel, stride, padding, dilation)

    return draw()


def input_sides(window: Window, slack: int = 3) -> st.SearchStrategy[tuple[int, ...]]:
    """Input sides that give each axis of `window` at least one output, up to `slack` more.

    >>> input_sides(Window((3,), (1,), (0,), (1,))).example()  # doctest: +SKIP
    (4,)
    """
    return st.tuples(*[st.integers(window.min_input(i), window.min_input(i) + slack)
                       for i in range(len(window.kernel))])


def spelled(values: tuple[int, ...], allow_empty: bool = False) -> st.SearchStrategy[int | list[int]]:
    """`values` as the schema may take them: a list, a bare int when all equal, or (for a pool's
    stride, `allow_empty`) the empty list that means "same as the kernel".

    >>> spelled((2, 2)).example() in ([2, 2], 2)  # doctest: +SKIP
    True
    """
    forms = [list(values)]
    if len(set(values)) == 1:
        forms.append(values[0])
    if allow_empty:
        forms.append([])
    return st.sampled_from(forms)

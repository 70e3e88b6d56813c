"""The mutation table (tests/mutations.py) stays runnable: an engine change that moves a
breakage's line is caught here, in the quick tests, not hours later by the script."""

from __future__ import annotations

import pytest

from tests.mutations import BREAKAGES, ROOT, AnchorError, _anchored


@pytest.mark.parametrize("breakage", BREAKAGES, ids=[b.name for b in BREAKAGES])
def test_every_breakage_replaces_one_line_and_names_tests_that_exist(breakage):
    _anchored(breakage, ROOT)  # AnchorError unless exactly one line of the file is the anchor
    assert breakage.replacement != breakage.anchor
    for test in breakage.tests:
        path, _, name = test.partition("::")  # a node id, or a whole test file
        assert (ROOT / path).is_file(), test
        assert not name or f"def {name.split('[')[0]}(" in (ROOT / path).read_text(), test


def test_a_moved_anchor_is_reported():
    moved = BREAKAGES[0].__class__(name="moved", path=BREAKAGES[0].path, anchor="no line reads this",
                                   replacement="x", tests=BREAKAGES[0].tests)
    with pytest.raises(AnchorError, match="0 lines"):
        _anchored(moved, ROOT)

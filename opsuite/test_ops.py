"""The op suite as pytest items: `pytest opsuite -k aten.add -n auto`."""

from opsuite.families import OP, OPINFO

CASE_SOURCE = (OP, OPINFO)


def test_case(case, harness_case):
    harness_case(case)

"""The op suite as pytest items: `pytest opsuite -k aten.add -n auto`."""

import opsuite

CASE_SOURCE = opsuite.cases


def test_case(case, harness_case):
    harness_case(case)

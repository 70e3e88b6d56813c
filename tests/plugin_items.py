"""Cases as pytest items through the harness's plugin, one for each outcome it maps.

Not collected by the harness's own test run (the name does not start with `test_`):
test_pytest_plugin runs it in a pytest of its own, under `tests.converters:WRONG`, which
computes cos where sin is asked for.
"""

import torch

from harness.case import Case, Expectation, Program
from harness.family import Family
from tests import factories
from tests.helpers import add_case, sin_case


def cos_for_sin(module, inputs):
    """The declared bug's model: what the WRONG converter computes."""
    return [torch.cos(inputs[0])]


DECLARED = Expectation("cos for sin, declared in this test", status="mismatch", stage="compare",
                       facets=("values",), model=cos_for_sin)
STALE = Expectation("declared in this test, yet add is right", status="mismatch")

# case id -> the pytest outcome its record must map to
OUTCOMES = {
    "aten.add.Tensor[float32-0]": "passed",  # pass
    "aten.sin.default[float32-wrong]": "failed",  # mismatch
    "aten.sin.default[float32-declared]": "xfailed",  # xfail
    "aten.add.Tensor[float32-stale]": "failed",  # xpass: the expectation is stale
    "test.refused[float32-0]": "skipped",  # skip: eager refuses the input
}


def cases(profile, seed):
    return [
        add_case(),
        sin_case(variant="wrong"),
        sin_case(variant="declared", expectations=(DECLARED,)),
        add_case(variant="stale", expectations=(STALE,)),
        Case("test.refused[float32-0]", "op", "aten.sin.default", Program(factories.refused_program, {}),
             "float32"),
    ]


CASE_SOURCE = Family(name="plugin_items", option="ops", cases=cases)


def test_case(case, harness_case):
    harness_case(case)

from opsuite.opinfo import cases
from opsuite.opinfo.tolerances import OVERRIDES


def test_every_override_names_a_screened_entry_and_dtype():
    screened = cases.screen()
    for entry, dtype in OVERRIDES:
        assert dtype in screened[entry]["samples"], (entry, dtype)


def test_an_overridden_entry_carries_its_tolerance_into_its_cases():
    screened = cases.screen()
    case = cases.sample_case("nn.functional.conv_transpose2d", screened["nn.functional.conv_transpose2d"],
                             "float32", 1, 0)
    assert (case.tolerance.rtol, case.tolerance.atol) == (1.3e-6, 1e-4)
    plain = cases.sample_case("take", screened["take"], "float32", 0, 0)
    assert plain.tolerance is None

"""The op table against the denominators read from the installed torch and TVM."""

from opsuite.coverage import denominators, inventory


def test_every_denominator_op_has_a_row_or_a_reason():
    missing = inventory.missing()
    assert not missing, f"ops with neither a row nor a NO_CASE reason: {missing}"


def test_real_cases_for_at_least_95_percent_of_the_union():
    union = denominators.union()
    table = inventory.inventory()
    with_rows = [op for op in union if table[op]["rows"]]
    assert len(with_rows) >= 0.95 * len(union), f"{len(with_rows)}/{len(union)} ops have rows"


def test_no_case_entries_name_denominator_ops_without_rows():
    # A reason for an op that has a row, or that no denominator lists, is stale.
    for op, info in inventory.inventory().items():
        if info["no_case"]:
            assert info["denominators"] and not info["rows"], op

"""A second bug on top of a known one is caught: no declared wrong output absorbs another fault.

For every op with a declared wrong-output failure (a compare-stage entry of the known
failures), the quick cases that entry applies to run twice through real TVM: as they are,
where the known bug alone must read `xfail`, and with every converter of the importer wrapped
to add 1 to the program's outputs (tests/converters.py PLUS_ONE), where none may stay `xfail`.
"""

from __future__ import annotations

import collections

import pytest

from harness import sources
from opsuite.expectations import entries as expectations
from tests.helpers import run

# Per (entry, op), how many applicable cases run: enough to meet the bug, few enough to stay quick.
CASES_PER_OP = 2


def _compare_entries() -> list[dict]:
    return [e for e in expectations.load() if e.get("stage") == "compare"]


def _cases_under_known_wrong_outputs() -> tuple[list, dict]:
    entries = _compare_entries()
    cases = sources.load(["ops"], "quick", 0)
    chosen, owners = [], collections.defaultdict(set)
    taken = collections.Counter()
    for entry in entries:
        declared = expectations.to_expectation(entry)
        for case in cases:
            if not expectations.entry_matches(entry, case) or not declared.applies(case, "llvm"):
                continue
            key = (entry["id"], case.op)
            if taken[key] >= CASES_PER_OP:
                continue
            taken[key] += 1
            owners[case.case_id].add(entry["id"])
            if case not in chosen:
                chosen.append(case)
    return chosen, owners


@pytest.mark.slow
def test_no_known_wrong_output_absorbs_a_second_fault(tmp_path):
    cases, owners = _cases_under_known_wrong_outputs()
    assert cases, "no quick case meets a declared wrong output"
    plain = run(cases, tmp_path / "plain", jobs=2)
    xfail = {cid for cid, r in plain.items() if r["status"] == "xfail" and r["stage"] == "compare"}
    # The known bug alone is explained: every entry that meets a case explains one of them.
    explained = {r["expectation"] for r in plain.values() if r["status"] == "xfail"}
    silent = sorted({e for cid in owners for e in owners[cid]} - explained)
    assert not silent, f"entries that explain none of their quick cases: {silent}"

    faulty = run([c for c in cases if c.case_id in xfail], tmp_path / "plus-one",
                 convert_map="tests.converters:PLUS_ONE", jobs=2)
    absorbed = sorted(cid for cid, r in faulty.items() if r["status"] == "xfail")
    assert not absorbed, f"{len(absorbed)} of {len(xfail)} cases still read xfail under a second fault: {absorbed[:10]}"
    # The fault is there and the record says what is new beside what is known.
    assert all(r["status"] != "pass" for r in faulty.values())

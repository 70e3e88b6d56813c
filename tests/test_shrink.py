"""Hypothesis shrinks a real failure (a wrong converter) to a minimal example that fails alike."""

import math

from harness import env
from harness.pool import Pool, PoolOptions
from harness.records import new_record
from opsuite.draw import shapes as S
from opsuite.draw.context import call
from opsuite.generate import row_cases
from opsuite.shrink import groups, shrink_one
from opsuite.table.row import FLOATS, OpRow


def _sin_calls(ctx):
    """One tensor of rank 0..4: hypothesis shrinks it towards rank 0, one element."""
    return ctx.tensors(S.shapes(0, 4, 1, 5)).map(lambda x: call(x))


SIN = OpRow("aten.sin.default", _sin_calls, FLOATS[:1])


def test_wrong_converter_failure_shrinks_to_a_smaller_example(tmp_path):
    versions = env.library_versions()
    cases = row_cases(SIN, "nightly", seed=0)
    with Pool(PoolOptions(target="llvm", convert_map="tests.converters:WRONG", log_dir=tmp_path)) as pool:
        def run_one(case):
            return pool.run_one(case, new_record(case, "llvm", versions))

        failing = []
        for case in cases:
            (record,) = run_one(case)
            if record["status"] == "mismatch" and math.prod(record["input_shapes"][0]) > 1:
                failing.append((case, record))
                break
        assert failing, "the wrong converter must make some multi-element case fail"
        (case, record), = groups(failing)
        minimal = shrink_one(SIN, case, record, run_one, seconds=120, seed=0)

    assert minimal is not None
    small_case, small_record = minimal
    assert small_record["status"] == "mismatch"
    assert small_record["error_signature"] == record["error_signature"]
    assert math.prod(small_record["input_shapes"][0]) < math.prod(record["input_shapes"][0])
    assert small_case.case_id.endswith("-min]")
    assert small_case.meta["shrunk_from"] == case.case_id

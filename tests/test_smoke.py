"""The CUDA smoke check's verdict, read from records: it never claims a run it did not see."""

from harness.smoke import MUST_RUN, SMOKE_OPS, summarise
from tests.crafted import kernels, record


def _compiled(case_id, dtype="float32"):
    return record(case_id, "aten.add.Tensor", "skip", dtype=dtype, target="cuda", stage="run",
                  skip_reason="no-gpu", device_compile=kernels("compiled", "compiled"))


def _ran(case_id, dtype, status="pass"):
    return record(case_id, "aten.add.Tensor", status, dtype=dtype, target="cuda", stage="compare",
                  device_compile={"compiler": "nvrtc", "where": "tvm.compile", "archs": {"sm_90": "compiled"},
                                  "seconds": {"sm_90": 0.2}, "remembered": [], "cuda_path": None})


def test_without_a_gpu_it_says_nothing_ran_and_what_was_compiled():
    status, lines = summarise([_compiled("a[float32-0]"), _compiled("a[bool-0]", "bool")])
    assert status == 0
    text = "\n".join(lines)
    assert "no GPU here: nothing ran on a device" in text and "sm_80, sm_90" in text
    assert "is not proved here" in text and lines[-1] == "smoke: OK"


def test_on_a_gpu_every_converted_dtype_must_have_passed_on_the_device():
    records = [_ran(f"a[{d}-0]", d) for d in MUST_RUN]
    status, lines = summarise(records)
    assert status == 0 and "4 cases ran on the GPU" in lines[1] and "sm_90" in lines[1]
    status, lines = summarise([r for r in records if r["dtype"] != "bfloat16"])
    assert status == 1 and any("no case of bfloat16 passed" in line for line in lines)


def test_an_unexpected_outcome_fails_the_smoke():
    records = [_ran(f"a[{d}-0]", d) for d in MUST_RUN] + [_ran("b[float32-0]", "float32", "mismatch")]
    status, lines = summarise(records)
    assert status == 1 and any(line.startswith("  unexpected: b[float32-0] mismatch") for line in lines)
    assert summarise([])[0] == 1


def test_the_smoke_ops_are_few():
    assert 3 <= len(SMOKE_OPS) <= 8

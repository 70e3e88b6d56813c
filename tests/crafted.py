"""Hand-made result records, for testing the reports without running a case."""

from __future__ import annotations

import json
from pathlib import Path

from harness.records import ResultsWriter

_FAILED_AT = {"export_error": "export", "import_unsupported": "import", "import_error": "import",
              "compile_error": "compile", "run_error": "run", "crash": "run", "timeout": "compile",
              "mismatch": "compare"}


def record(case_id: str, op: str, status: str = "pass", dtype: str = "float32", target: str = "llvm",
           kind: str = "op", raw: str | None = None, **fields) -> dict:
    """A complete record; a failure gets a stage, an error and a signature unless given."""
    raw = raw or status
    failed = raw not in ("pass", "skip")
    stage = fields.pop("stage", _FAILED_AT.get(raw, "compare") if failed else "compare")
    named = "error" in fields  # a wrong output's signature is its facets unless the test names an error
    error = fields.pop("error", f"RuntimeError: {op} broke at {stage}" if failed else None)
    base = {
        "case_id": case_id, "kind": kind, "op": op, "aten_ops": [op] if kind == "op" else [],
        "dtype": dtype, "target": target, "status": status, "raw_status": raw, "stage": stage,
        "error": error, "error_signature": (f"{stage}: output N values" if raw == "mismatch" and not named else f"{stage}: {error}") if error else None,
        "unsupported_ops": None, "skip_reason": None, "signal": None, "max_abs_err": None,
        "max_rel_err": None, "rel_l2_err": None, "cosine": None, "rtol": None, "atol": None,
        "tolerance_reason": None, "degenerate": None, "seconds": {"total": 0.5}, "peak_rss_mb": {},
        "seed": 0, "repro": None, "input_shapes": [[2, 3]], "input_dtypes": [dtype],
        "dynamic_case": None, "sizes": None, "probe": None,
        "expectation": {"reason": "known in this test", "link": None} if status in ("xfail", "xpass") else None,
        "meta": {}, "torch_version": "2.14.1", "tvm_version": "0.27.0.post1",
    }
    base.update(fields)
    return base


def write_dir(directory: Path, records: list[dict], repros: bool = False) -> Path:
    """A results directory holding `records` (and, with `repros`, a script for each failure)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if repros:
        for r in records:
            if r["status"] not in ("pass", "skip"):
                path = directory / "repro" / r["target"] / f"{r['case_id'].replace('[', '_').replace(']', '')}.py"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text("print('status: x')\n")
                r["repro"] = str(path)
    with ResultsWriter(directory / "results.jsonl") as writer:
        writer.write(records)
    (directory / "environment.json").write_text(json.dumps(
        {"torch_version": "2.14.1", "torchvision_version": "0.29.1", "tvm_version": "0.27.0.post1",
         "tvm_path": "/opt/tvm/python/tvm", "tvm_git_commit": "0123456789abcdef0123",
         "tvm_git_commit_time": "2026-01-02 03:04:05 +0000",
         "tvm_build": {"USE_LLVM": "ON", "LLVM_VERSION": "17.0.6", "USE_CUDA": "OFF", "USE_CUBLAS": "ON"},
         "python": "3.11", "cpu": "test cpu", "cores": 2, "gpu": None, "target": "llvm", "seed": 0,
         "profile": "quick", "host": "test"}))
    return directory


def kernels(sm80: str, sm90: str) -> dict:
    """A record's `device_compile` for two archs, as the harness writes it without a GPU."""
    return {"compiler": "nvrtc", "where": "harness", "archs": {"sm_80": sm80, "sm_90": sm90},
            "seconds": {a: 0.5 for a, v in (("sm_80", sm80), ("sm_90", sm90)) if v != "not tried"},
            "remembered": [], "cuda_path": None}


def scenario() -> list[dict]:
    """One record set with every grade, cell kind and attribution the matrix distinguishes."""
    r = record
    return [
        # full: every case that ran passed; a dtype eager does not support is a skip, not a failure
        r("aten.add.Tensor[float32-0]", "aten.add.Tensor"),
        r("aten.add.Tensor[float32-1]", "aten.add.Tensor"),
        r("aten.add.Tensor[float16-0]", "aten.add.Tensor", dtype="float16"),
        r("aten.add.Tensor[int32+float16-0]", "aten.add.Tensor", dtype="int32+float16"),
        r("aten.add.Tensor[bool-0]", "aten.add.Tensor", "skip", dtype="bool", skip_reason="eager: unsupported",
          stage="eager"),
        r("dyn.add[float32-0]@n=2", "aten.add.Tensor", kind="dynamic", dynamic_case="dyn.add[float32-0]"),
        r("dyn.add[float32-0]@n=9", "aten.add.Tensor", kind="dynamic", dynamic_case="dyn.add[float32-0]"),
        r("dyn.add[float32-0]@probe:n=99", "aten.add.Tensor", "skip", kind="dynamic",
          dynamic_case="dyn.add[float32-0]", probe={"outcome": "rejected"}),
        # partial: a pass and a mismatch; none: failures only
        r("aten.mul.Tensor[float32-0]", "aten.mul.Tensor"),
        r("aten.mul.Tensor[float16-0]", "aten.mul.Tensor", "mismatch", dtype="float16",
          input_shapes=[[4, 4], [4]]),
        r("aten.mul.Tensor[float16-1]", "aten.mul.Tensor", "mismatch", dtype="float16", input_shapes=[[2], [2]]),
        r("aten.sub.Tensor[float32-0]", "aten.sub.Tensor", "import_error", error="ValueError: no sub"),
        r("aten.sub.Tensor[float32-1]", "aten.sub.Tensor", "compile_error", error="TVMError: bad schedule"),
        # a degenerate-only pass is not full; with a proper pass beside it, partial
        r("aten.neg.default[float32-0]", "aten.neg.default", degenerate="all-zero"),
        r("aten.abs.default[float32-0]", "aten.abs.default"),
        r("aten.abs.default[float32-1]", "aten.abs.default", degenerate="constant"),
        # xfail only: none; xfail beside a pass: partial; an unexpected pass is not full
        r("aten.exp.default[float32-0]", "aten.exp.default", "xfail", raw="mismatch"),
        r("aten.log.default[float32-0]", "aten.log.default"),
        r("aten.log.default[float64-0]", "aten.log.default", "xfail", raw="run_error", dtype="float64"),
        r("aten.relu.default[float32-0]", "aten.relu.default", "xpass", raw="pass"),
        # CUDA on a machine without a GPU: TVM generated the kernels and the device compiler took them
        # for every arch: the cell and the grade say "compiles"
        r("aten.cos.default[float32-0]", "aten.cos.default", "skip", target="cuda", skip_reason="no-gpu",
          stage="run", device_compile=kernels("compiled", "compiled")),
        # ... and one whose kernels the device compiler rejects for sm_80 beside one it takes: partial
        r("aten.tan.default[float16-0]", "aten.tan.default", "skip", dtype="float16", target="cuda",
          skip_reason="no-gpu", stage="run", device_compile=kernels("compiled", "compiled")),
        r("aten.tan.default[float16-1]", "aten.tan.default", "compile_error", dtype="float16", target="cuda",
          error='DeviceCompileError: nvrtc sm_80: error: identifier "htan" is undefined',
          device_compile=kernels("rejected", "not tried")),
        # every case skipped (eager does not support the dtype): "skipped"
        r("aten.tanh.default[bool-0]", "aten.tanh.default", "skip", dtype="bool", stage="eager",
          skip_reason="eager: unsupported"),
        # an op outside the denominators still gets a row
        r("aten.special_bessel_j0.default[float32-0]", "aten.special_bessel_j0.default", "mismatch"),
        # an OpInfo case for `sin` whose graph also uses mul: full for opinfo.sin, a use of mul
        r("opinfo.sin[float32-0]", "opinfo.sin", aten_ops=["aten.sin.default", "aten.mul.Tensor"]),
        # models: their graphs use add and convolution (which has no case of its own)
        r("resnet18[float32-64x64]", "resnet18", kind="model",
          aten_ops=["aten.convolution.default", "aten.add.Tensor"]),
        r("resnet18[float32-64x64]", "resnet18", "skip", kind="model", target="cuda", skip_reason="no-gpu",
          stage="run", aten_ops=["aten.convolution.default", "aten.add.Tensor"]),
        r("raft_small[float32-128x128]", "raft_small", "import_error", kind="model",
          aten_ops=["aten.add.Tensor", "aten.grid_sampler_2d.default"], input_shapes=[[1, 3, 128, 128]] * 2),
    ]

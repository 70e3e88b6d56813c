"""Apply a case's declared expectations to its records: failures become xfail, passes xpass."""

from __future__ import annotations

from harness.case import FAILURES, STAGES, Case, Expectation

# What a case got through when only the missing GPU stopped it (CUDA compiled fine).
_BEFORE_RUN = frozenset(STAGES[:STAGES.index("run")])
_FAILED_BEFORE_RUN = frozenset({"export_error", "import_unsupported", "import_error", "compile_error"})


def describe(expectation: Expectation) -> dict:
    return {
        "reason": expectation.reason,
        "status": expectation.status,
        "stage": expectation.stage,
        "match": expectation.match,
        "link": expectation.link,
        "flaky": expectation.flaky,
        "sizes": {k: list(v) for k, v in expectation.sizes.items()} if expectation.sizes else None,
    }


def apply(case: Case, target: str, record: dict) -> dict:
    """Set `raw_status` and, where an expectation applies, turn the status into xfail/xpass.

    A failure that an applicable expectation does not explain (another stage, another
    status, an error the pattern does not match) stays what it is: a different bug.
    """
    raw = record["status"]
    record["raw_status"] = raw
    if record.get("probe"):
        return record
    applicable = [e for e in case.expectations
                  if e.applies(case, target) and e.covers(record.get("sizes"))]
    if not applicable:
        return record
    if raw == "pass":
        strict = [e for e in applicable if not e.flaky]
        record["status"] = "xpass" if strict else "pass"
        record["expectation"] = describe((strict or applicable)[0])
    elif raw == "skip" and record.get("skip_reason") == "no-gpu":
        # Compiled without a GPU: an expected failure of a stage it got through is stale, as a
        # pass is, unless another expectation still predicts a failure of the run it never had.
        early = [e for e in applicable if e.stage in _BEFORE_RUN or e.status in _FAILED_BEFORE_RUN]
        stale = [e for e in early if not e.flaky]
        if stale and len(early) == len(applicable):
            record["status"] = "xpass"
            record["expectation"] = describe(stale[0])
    elif raw in FAILURES:
        for expectation in applicable:
            if expectation.explains(raw, record.get("stage"), record.get("error")):
                record["status"] = "xfail"
                record["expectation"] = describe(expectation)
                break
    return record

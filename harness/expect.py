"""Apply a case's declared expectations to its records: failures become xfail, passes xpass.

A failure is `xfail` only when one applicable expectation explains all of it: its status,
stage and error pattern match, and for a wrong output every differing facet is one the
expectation names, with wrong values matching its model of the bug (checked in the worker,
`model_checks`). Anything more is a different bug and stays a failure; its record says which
part was known (`partly_expected`, the facets explained) and which is new (`unexplained`).
"""

from __future__ import annotations

import dataclasses
import re

from harness.case import FAILURES, MODELLED_FACETS, STAGES, Case, Expectation

# What a case got through when only the missing GPU stopped it (CUDA compiled fine).
_BEFORE_RUN = frozenset(STAGES[:STAGES.index("run")])
_FAILED_BEFORE_RUN = frozenset({"export_error", "import_unsupported", "import_error", "compile_error"})


def describe(expectation: Expectation) -> dict:
    return {
        "id": expectation.id,
        "reason": expectation.reason,
        "status": expectation.status,
        "stage": expectation.stage,
        "match": expectation.match,
        "facets": list(expectation.facets) if expectation.facets else None,
        "model": getattr(expectation.model, "__name__", None),
        "unmodelled": expectation.unmodelled,
        "link": expectation.link,
        "flaky": expectation.flaky,
        "sizes": {k: list(v) for k, v in expectation.sizes.items()} if expectation.sizes else None,
        # Only where an entry says more than the default, so export records stay as they were.
        **({"frontends": list(expectation.frontends)} if expectation.frontends != ("export",) else {}),
    }


def applicable(case: Case, target: str, size: dict | None, frontend: str = "export") -> list[Expectation]:
    """The case's expectations in scope on this target, run size and frontend (an entry is a
    claim about one road's converters: by default the export road's)."""
    case = dataclasses.replace(case, expectations=tuple(e for e in case.expectations if frontend in e.frontends))
    return [e for e in case.expectations if e.applies(case, target) and e.covers(size)]


def unexplained(expectation: Expectation, record: dict) -> list[dict]:
    """The differing facets of a record that this expectation does not account for."""
    check = (record.get("model_checks") or {}).get(expectation.key)
    left = []
    for facet in record.get("facets") or []:
        if not expectation.names(facet):
            left.append(facet)
        elif ((facet["facet"] in MODELLED_FACETS or expectation.model is not None)  # a model, where given, must hold
              and expectation.unmodelled is None and not (check and check["ok"])):
            left.append({**facet, "model": (check or {}).get("message") or "no model check ran"})
    return left


def _unreached(expectation: Expectation, record: dict) -> bool:
    """Whether a passing record's graph lacks the ops an import_unsupported entry names: its
    pattern (on TVM's "Unsupported function types [...]" message) does not match that message
    written for every op the graph holds."""
    if expectation.status != "import_unsupported" or not expectation.match or record.get("aten_ops") is None:
        return False
    held = ", ".join(f"'{op.removeprefix('aten.')}'" for op in record["aten_ops"])
    return re.search(expectation.match, f"Unsupported function types [{held}]") is None


def _set(record: dict, status: str, expectation: Expectation) -> None:
    record["status"] = status
    record["expectation"] = expectation.key
    record["expected"] = describe(expectation)


def apply(case: Case, target: str, record: dict) -> dict:
    """Set `raw_status` and, where an expectation applies, turn the status into xfail/xpass.

    A failure that an applicable expectation does not explain (another stage, another
    status, an error the pattern does not match, a facet it does not name, values its model
    does not predict) stays what it is: a different bug.
    """
    raw = record["status"]
    record["raw_status"] = raw
    if record.get("probe"):
        return record
    candidates = applicable(case, target, record.get("sizes"), record.get("frontend") or "export")
    if not candidates:
        return record
    if raw == "pass":
        checks = record.get("model_checks") or {}
        # A model that gives what TVM gave on a pass gives eager's answer: its bug cannot show on
        # this draw, so the pass says nothing about whether it is fixed. Nor does a pass whose
        # graph never reaches an op an import_unsupported entry says the importer lacks.
        unshown = [e for e in candidates
                   if (e.model is not None and (checks.get(e.key) or {}).get("ok")) or _unreached(e, record)]
        if unshown:
            record["not_shown"] = [e.key for e in unshown]
        shown = [e for e in candidates if e not in unshown]
        if not shown:
            return record
        strict = [e for e in shown if not e.flaky]
        _set(record, "xpass" if strict else "pass", (strict or shown)[0])
        return record
    if raw == "skip" and record.get("skip_reason") == "no-gpu":
        # Compiled without a GPU: an expected failure of a stage it got through is stale, as a
        # pass is, unless another expectation still predicts a failure of the run it never had.
        early = [e for e in candidates if e.stage in _BEFORE_RUN or e.status in _FAILED_BEFORE_RUN]
        stale = [e for e in early if not e.flaky]
        if stale and len(early) == len(candidates):
            _set(record, "xpass", stale[0])
        return record
    if raw not in FAILURES:
        return record
    partial = None
    for expectation in candidates:
        if not expectation.explains(raw, record.get("stage"), record.get("error")):
            continue
        if not record.get("facets"):
            if expectation.facets is None:
                _set(record, "xfail", expectation)
                return record
            continue
        left = unexplained(expectation, record)
        if not left:
            _set(record, "xfail", expectation)
            return record
        if expectation.facets and (partial is None or len(left) < len(partial[1])):
            partial = (expectation, left)
    if partial is not None:
        record["partly_expected"] = partial[0].key
        record["unexplained"] = partial[1]
    return record

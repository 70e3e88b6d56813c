"""JUnit XML (junit.xml) for CI systems: one testsuite per target, one testcase per record.

The mapping follows what CI viewers understand: a wrong result (mismatch) and an unexpected
pass (xpass: a stale expectation, strict) are `failure`s; a stage that raised, crashed or timed
out is an `error`; skips and expected failures are `skipped`, with the reason. The classname
is the op or model the case is for, so viewers group a case under its op.
"""

from __future__ import annotations

import collections
import xml.etree.ElementTree as ET
from pathlib import Path

from harness.records import expectation_of
from reports.load import Run

_FAILURE = ("mismatch", "xpass")


def _message(record: dict) -> str:
    if record["status"] == "xfail":
        return "expected failure: " + expectation_of(record).get("reason", "")
    if record["status"] == "xpass":
        return "unexpected pass: " + expectation_of(record).get("reason", "")
    if record["status"] == "skip":
        return record.get("skip_reason") or "skipped"
    return record.get("error") or record["status"]


def _case(record: dict) -> ET.Element:
    seconds = float((record.get("seconds") or {}).get("total") or 0.0)
    case = ET.Element("testcase", classname=record["op"], name=record["case_id"], time=f"{seconds:.3f}")
    status = record["status"]
    if status == "pass":
        return case
    if status in ("skip", "xfail"):
        ET.SubElement(case, "skipped", message=_message(record))
        return case
    tag = "failure" if status in _FAILURE else "error"
    detail = ET.SubElement(case, tag, type=status, message=_message(record))
    lines = [f"stage: {record.get('stage')}", f"signature: {record.get('error_signature')}"]
    if record.get("short_repro"):
        lines.append(f"short repro: {record['short_repro']}")
    if record.get("repro"):
        lines.append(f"repro: {record['repro']}")
    detail.text = "\n".join(lines)
    return case


def write(run: Run, path: Path) -> Path:
    by_target: dict[str, list[dict]] = collections.defaultdict(list)
    for record in run.records:
        by_target[record["target"]].append(record)
    root = ET.Element("testsuites", name="tvm-export-conformance")
    totals = collections.Counter()
    for target, records in sorted(by_target.items()):
        records.sort(key=lambda r: r["case_id"])
        suite = ET.SubElement(root, "testsuite", name=f"conformance.{target}")
        counts = collections.Counter()
        seconds = 0.0
        for record in records:
            case = _case(record)
            suite.append(case)
            seconds += float(case.get("time"))
            for tag in ("failure", "error", "skipped"):
                counts[tag] += case.find(tag) is not None
        attributes = {"tests": len(records), "failures": counts["failure"], "errors": counts["error"],
                      "skipped": counts["skipped"], "time": round(seconds, 3)}
        suite.attrib.update({k: str(v) for k, v in attributes.items()})
        totals.update(attributes)
    root.attrib.update({k: str(round(v, 3) if k == "time" else v) for k, v in totals.items()})
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path

"""Upstream-ready bug reports: one markdown draft per distinct defect (a triage row).

Shaped like apache/tvm's bug report template (Expected behavior, Actual behavior,
Environment, Steps to reproduce, Triage), each draft carries: a title naming the op and the
symptom; the environment (torch, TVM version and git commit, target); the minimal failing
example as a self-contained script inline (the shrunk case from minimal.jsonl where shrinking
ran, else the triage row's smallest case; the record's `short_repro` when it has one, else its
full repro script); expected against actual (the record's `facets`, else its error line); the
converter involved with its file and line in the installed TVM; how many cases and dtypes the
defect hits; and the upstream link an expectation declares.

Rendering only: this module never runs a script. A draft says which status its script must end
with; the command line runs each script once and writes only the drafts that reproduce.
An `export_error` is torch.export's failure, not TVM's: it gets no draft.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from harness import converters
from harness.records import MINIMAL_FILE, ResultsError, read_results
from reports import triage
from reports.load import Run, input_elements, load

NOT_TVM = ("export_error",)
# Where the command line puts what the confirmation run printed.
CONFIRMATION = "<!-- confirmation -->"

_SYMPTOM = {
    "import_unsupported": "no converter in from_exported_program",
    "import_error": "from_exported_program fails",
    "compile_error": "tvm.compile fails",
    "run_error": "the compiled module fails at run time",
    "deploy_error": "the exported library fails when loaded and run in a fresh process",
    "crash": "the process crashes",
    "timeout": "hangs",
    "mismatch": "wrong result",
}


@dataclass
class Draft:
    bug_id: str  # the triage row (B1, ...)
    name: str  # the file name under DIR/issues/
    title: str
    body: str  # markdown, the script inline; CONFIRMATION is replaced once it reproduced
    script: str  # the self-contained script the confirmation runs
    expect_status: str  # the raw status the script must end with (`status: WORD`)
    record: dict  # the example the draft shows

    def render(self, confirmation: str) -> str:
        """The markdown, with what the confirmation run showed in its place."""
        return self.body.replace(CONFIRMATION, confirmation, 1)


def _minimal(directory: Path) -> list[dict]:
    path = Path(directory) / MINIMAL_FILE
    if not path.exists():
        return []
    try:
        return [r for r in read_results(path) if not r.get("probe")]
    except ResultsError:
        return []  # a torn minimal file: fall back to the run's own smallest case


def example_of(bug: triage.Bug, minimal: list[dict]) -> dict:
    """The shrunk case of this defect when shrinking ran, else the triage row's smallest case."""
    shrunk = [r for r in minimal if triage.is_failure(r) and triage.signature(r) == bug.signature]
    return triage.smallest(shrunk) if shrunk else bug.example


def script_of(record: dict) -> str | None:
    """The record's short literal repro when it has one, else its full repro script."""
    short = record.get("short_repro")
    if isinstance(short, str) and short.strip():
        if "\n" in short:
            return short
        if Path(short).is_file():
            return Path(short).read_text()
    path = record.get("repro")
    if path and Path(path).is_file():
        return Path(path).read_text()
    return None


def symptom(record: dict) -> str:
    raw = record.get("raw_status") or record["status"]
    facets = record.get("facets") or []
    if raw == "mismatch" and facets:
        names = sorted({str(f.get("facet")) for f in facets if f.get("facet")})
        return f"wrong {', '.join(names)}" if names else _SYMPTOM[raw]
    base = _SYMPTOM.get(raw, raw)
    if raw == "crash" and record.get("signal"):
        base += f" ({record['signal']})"
    if raw in ("import_error", "compile_error", "run_error", "deploy_error") and record.get("error"):
        error = record["error"].split(": ", 1)[-1]
        base += ": " + (error if len(error) <= 70 else error[:67] + "...")
    return base


def title(bug: triage.Bug, record: dict) -> str:
    ops = bug.ops if len(bug.ops) <= 2 else [*bug.ops[:2], f"{len(bug.ops) - 2} more"]
    return f"[Bug][Relax][Frontend][Torch] {', '.join(ops)}: {symptom(record)}"


def _converter_ops(record: dict) -> list[str]:
    if record["op"].startswith("aten."):
        return [record["op"]]
    return list(record.get("unsupported_ops") or [o for o in record.get("aten_ops") or []
                                                  if o.startswith("aten.")][:5])


def converter_lines(record: dict) -> list[str]:
    lines = []
    for op in _converter_ops(record):
        try:
            found = converters.converter_of(op)
        except Exception as err:  # noqa: BLE001 - without TVM the draft still renders
            lines.append(f"- `{op}`: the convert map could not be read ({type(err).__name__})")
            continue
        if found is None:
            lines.append(f"- `{op}`: no converter: `ExportedProgramImporter().create_convert_map()` "
                         f"has no key `{converters.key_of(op)}`")
        else:
            lines.append(f"- `{op}`: convert-map key `{found.key}` -> `{found.qualname}` at "
                         f"`{found.source_path()}`" + (f" (wraps {', '.join(found.captured)})" if found.captured else "")
                         + f"; installed: `{found.where()}`")
    return lines or [f"- `{record['op']}`: a whole program; see the ops of its graph: "
                     f"{', '.join(record.get('aten_ops') or []) or 'none recorded'}"]


def _cell(value) -> str:
    text = str(value).replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= 120 else text[:117] + "..."


def expected_actual(record: dict) -> tuple[str, str]:
    raw = record.get("raw_status") or record["status"]
    facets = record.get("facets") or []
    if facets:
        rows = ["| output | facet | expected (eager PyTorch) | got (TVM) |", "|---|---|---|---|"]
        for f in facets:
            index = f.get("output", f.get("index", "?"))
            rows.append(f"| {_cell(index)} | {_cell(f.get('facet'))} | {_cell(f.get('expected'))} | {_cell(f.get('got'))} |")
        return ("The TVM module computes what eager PyTorch computes for the same inputs.",
                "\n".join(rows))
    if raw == "mismatch":
        actual = (f"Wrong values: max abs error {record.get('max_abs_err')}, max rel error "
                  f"{record.get('max_rel_err')} (rtol {record.get('rtol')}, atol {record.get('atol')}).\n\n"
                  f"    {record.get('error') or ''}")
        return "The TVM module computes what eager PyTorch computes for the same inputs.", actual
    expected = ("`from_exported_program` imports the exported program, `tvm.compile` builds it and the "
                "module computes what eager PyTorch computes.")
    return expected, f"Stage `{record.get('stage')}` ends with `{raw}`:\n\n    {record.get('error') or '(no message)'}"


def environment_lines(run: Run, record: dict, build: dict) -> list[str]:
    env = run.environment
    commit = build.get("git_commit") or "not recorded by this build (`tvm.support.libinfo()` has no GIT_COMMIT_HASH)"
    lines = [
        f"- torch {record.get('torch_version') or env.get('torch_version')}",
        f"- TVM {record.get('tvm_version') or env.get('tvm_version')}, git commit: {commit}",
        f"- target: `{record['target']}`",
    ]
    if build.get("version") and build["version"] != (record.get("tvm_version") or build["version"]):
        lines.append(f"- (the installed TVM, which confirmed the script, is {build['version']})")
    for key, label in (("python", "Python"), ("platform", "OS"), ("cpu", "CPU"), ("gpu", "GPU")):
        if env.get(key):
            lines.append(f"- {label}: {env[key]}")
    return lines


def _scope(bug: triage.Bug) -> str:
    statuses = ", ".join(f"{s} {n}" for s, n in bug.statuses.items())
    return (f"{bug.count} case{'s' if bug.count != 1 else ''} ({statuses}) over {len(bug.ops)} op"
            f"{'s' if len(bug.ops) != 1 else ''}; dtypes: {', '.join(bug.dtypes)}; targets: {', '.join(bug.targets)}")


def body(bug: triage.Bug, run: Run, record: dict, script: str, build: dict) -> str:
    expected, actual = expected_actual(record)
    upstream = "\n".join(f"- {link}" for link in bug.links) or "- none declared"
    shapes = record.get("input_shapes")
    parts = [
        f"# {title(bug, record)}",
        "",
        "### Expected behavior",
        "",
        expected,
        "",
        "### Actual behavior",
        "",
        actual,
        "",
        f"Affects {_scope(bug)}.",
        "",
        "### Environment",
        "",
        *environment_lines(run, record, build),
        "",
        "### Steps to reproduce",
        "",
        f"Case `{record['case_id']}` ({input_elements(record)} input elements, shapes {shapes}, "
        f"seed {record.get('seed')})"
        + (f", shrunk from `{record['shrunk_from']}`" if record.get("shrunk_from") else "") + ". "
        "The script needs only torch and apache-tvm; it prints `status: WORD` last.",
        "",
        "```python",
        script.rstrip("\n"),
        "```",
        "",
        CONFIRMATION,
        "",
        "### Triage",
        "",
        "Converter involved (installed TVM):",
        "",
        *converter_lines(record),
        "",
        f"Error signature: `{bug.signature}`",
        "",
        *([f"Known failure, as declared: {reason}" for reason in bug.reasons] + [""] if bug.reasons else []),
        "Existing upstream report:",
        "",
        upstream,
        "",
        "* needs-triage",
        "* frontend:pytorch",
        "",
    ]
    return "\n".join(parts)


def file_name(bug: triage.Bug, record: dict) -> str:
    op = re.sub(r"[^A-Za-z0-9_.\-]+", "_", bug.ops[0] if bug.ops else record["op"])
    raw = record.get("raw_status") or record["status"]
    return f"{bug.id}-{op}-{raw}.md"


def drafts(directory: str | Path) -> tuple[list[Draft], list[str]]:
    """One draft per TVM defect of DIR's triage, and a line for each defect left without one."""
    directory = Path(directory)
    run = load(directory)
    minimal = _minimal(directory)
    build = converters.tvm_build()
    made, skipped = [], []
    for bug in triage.bugs(run):
        record = example_of(bug, minimal)
        raw = record.get("raw_status") or record["status"]
        if raw in NOT_TVM:
            skipped.append(f"{bug.id} ({bug.signature}): {raw} is torch.export's failure, not TVM's")
            continue
        script = script_of(record)
        if script is None:
            skipped.append(f"{bug.id} ({bug.signature}): its example {record['case_id']} has no repro script")
            continue
        made.append(Draft(bug.id, file_name(bug, record), title(bug, record),
                          body(bug, run, record, script, build), script, raw, record))
    return made, skipped

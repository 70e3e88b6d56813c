"""GitHub-flavoured markdown: coverage.md (short enough for a CI job summary), triage.md, diff.md.

coverage.md holds the summary figures, the diff against the baseline when there is one, the
ops and models that are not fully passing, and the largest bugs; the full matrix is in
coverage.html and coverage.csv, every bug in triage.md. Lists are capped so the page stays a
summary however many ops the suite grows to.
"""

from __future__ import annotations

from harness.records import expectation_of
from reports.diff import Change, Diff, OpChange
from reports.differential import Split, headline
from reports.findings import Finding
from reports.load import split_column
from reports.matrix import GRADES, Matrix, MatrixRow
from reports.summary import device_compile_line
from reports.triage import Bug, bug_of

DENOMINATOR_LABELS = {"convert_map": "importer convert-map keys", "core": "core ATen overloads",
                      "reached": "aten overloads OpInfo samples' or zoo models' graphs reach",
                      "opinfo": "OpInfo entries", "model": "TorchVision models"}
GRADE_RULES = (
    "**full**: some case passed on a non-degenerate reference and none failed (a pass on a "
    "degenerate reference, e.g. an empty output, neither proves nor fails, unless the op's row "
    "says every reference of that dtype is: a fill's, isnan's of integers); **partial**: some "
    "passed (or compiled), some did not (a failure, an expected failure, an unexpected pass); "
    "**compiles**: no case ran (CUDA without a GPU), some compiled and none failed; **unproven**: "
    "cases passed, but only on degenerate references (empty, all-zero, constant), none on a proper "
    "one; **none**: cases ran and none passed; **skipped**: every case was skipped; "
    "**not run**: cases are planned but not in these records; **no case**: "
    "nothing is planned. Grades count the cases *for* an op (its record's `op`); cases that merely "
    "*use* it (it is in their `aten_ops`) are shown apart and never grade it.")
CELL_RULE = ("A cell is `passes/ran` over the cases that ran, then every other outcome with its count "
             "(`degenerate`: a pass on a reference that proves little; `compiles`: CUDA compiled on a "
             "machine without a GPU: TVM generated the kernels and the device compiler accepted all of "
             "them for every listed arch). On CUDA, `kernels ARCH... k/n` says for how many of the cell's "
             "compiled programs the device compiler accepted every kernel, per arch.")
MAX_ROWS = 60
MAX_BUGS = 15
MAX_CHANGES = 30


def esc(text) -> str:
    """Text safe inside a table cell: pipes escaped, newlines flattened."""
    return str(text if text is not None else "").replace("|", "\\|").replace("\n", " ")


def clip(text, limit: int = 160) -> str:
    text = str(text or "")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def tvm_description(env: dict) -> str:
    """`TVM 0.27.0 (git 1a2b3c4d5e6f, 2026-01-02; LLVM ON 17.0.6, CUDA ON) from PATH`: which TVM gave
    the verdicts, as the fingerprint recorded it (older fingerprints have the version only)."""
    text = f"TVM {env.get('tvm_version', '?')}"
    if "tvm_path" not in env:
        return text
    build = env.get("tvm_build") or {}
    commit = env.get("tvm_git_commit")
    facts = [f"git {commit[:12]}" + (f", {env['tvm_git_commit_time']}" if env.get("tvm_git_commit_time") else "")
             if commit else "git commit not recorded by this build"]
    for name in ("LLVM", "CUDA"):
        if f"USE_{name}" in build:
            facts.append(f"{name} {build[f'USE_{name}']}" + (f" {build[f'{name}_VERSION']}"
                                                             if build.get(f"{name}_VERSION") else ""))
    others = [k.removeprefix("USE_") for k, v in build.items()
              if k.startswith("USE_") and k not in ("USE_LLVM", "USE_CUDA") and v != "OFF"]
    if others:
        facts.append("also " + ", ".join(others))
    return f"{text} ({'; '.join(facts)}) from {env.get('tvm_path') or 'nowhere: not importable'}"


def environment_line(summary: dict) -> str:
    env = summary.get("environment") or {}
    parts = [f"torch {env.get('torch_version', '?')}", f"torchvision {env.get('torchvision_version', '?')}",
             tvm_description(env), f"Python {env.get('python', '?')}",
             f"{env.get('cpu', '?')} ({env.get('cores', '?')} cores)", f"GPU: {env.get('gpu') or 'none'}",
             f"targets: {', '.join(summary['targets']) or 'none'}", f"profile {env.get('profile', '?')}",
             f"seed {env.get('seed', '?')}"]
    if len(summary.get("versions", [])) > 1:
        parts.append("records from several versions: " + "; ".join(summary["versions"]))
    return " · ".join(parts)


def summary_tables(summary: dict) -> list[str]:
    lines = ["| denominator | rows | " + " | ".join(GRADES) + " |",
             "|---|---:|" + "---:|" * len(GRADES)]
    for key, label in DENOMINATOR_LABELS.items():
        counts = summary["denominators"][key]
        lines.append(f"| {label} | {counts['total']} | " + " | ".join(str(counts[g]) for g in GRADES) + " |")
    statuses = [s for s, n in summary["statuses"].items() if n]
    lines += ["", "| target | cases | " + " | ".join(statuses) + " |", "|---|---:|" + "---:|" * len(statuses)]
    for target, counts in summary["statuses_by_target"].items():
        lines.append(f"| {target} | {sum(counts.values())} | " + " | ".join(str(counts[s]) for s in statuses) + " |")
    lines.append(f"| all | {summary['cases']} | " + " | ".join(str(summary['statuses'][s]) for s in statuses) + " |")
    if summary.get("degenerate"):
        lines += ["", degenerate_line(summary["degenerate"])]
    return lines


def degenerate_line(figures: dict) -> str:
    """How many passes rest on a reference that proves little, by tier, and how many on one that
    the op's definition makes degenerate whatever is drawn."""
    share = figures["drawn"] / figures["passes"] if figures["passes"] else 0.0
    tiers = ", ".join(f"{t} {n}" for t, n in figures["drawn_by_tier"].items())
    return (f"Passes on a degenerate reference: {figures['drawn']} of {figures['passes']} ({share:.1%})"
            + (f" (where: {tiers})" if tiers else "")
            + f"; {figures['by_definition']} more whose op gives no other (a fill, isnan of an integer).")


def failing_cells(row: MatrixRow) -> list[tuple[str, str]]:
    return [(col, cell.text) for col, cell in row.cells.items()
            if cell.worst not in ("pass", "skip", "compiles")]


def row_bugs(row: MatrixRow, bugs_by_case: dict) -> list[str]:
    found = {bugs_by_case[(case_id, split_column(col)[1])] for col, cell in row.cells.items()
             for case_id in cell.case_ids if (case_id, split_column(col)[1]) in bugs_by_case}
    return sorted(found, key=lambda b: int(b[1:]))


def used_by(row: MatrixRow) -> str:
    parts = []
    if row.uses:
        parts.append(f"{row.uses.get('pass', 0)}/{sum(row.uses.values())} other cases pass")
    if row.models:
        full = sum(g == "full" for g in row.models.values())
        parts.append(f"{len(row.models)} models ({full} full)")
    return "; ".join(parts)


def problem_rows(matrix: Matrix, families: tuple[str, ...], bugs: list[Bug]) -> list[str]:
    bugs_by_case = bug_of(bugs)
    chosen = [r for r in matrix.rows if r.row.family in families and r.grade in ("partial", "unproven", "none")]
    chosen.sort(key=lambda r: (r.grade != "none", r.name))
    lines = ["| name | grade | denominators | not passing (cells) | bugs | used by |",
             "|---|---|---|---|---|---|"]
    for row in chosen[:MAX_ROWS]:
        cells = "; ".join(f"{col}: {text}" for col, text in failing_cells(row))
        lines.append(f"| `{esc(row.name)}` | {row.grade} | {'+'.join(row.row.denominators) or '-'} | "
                     f"{esc(cells)} | {', '.join(row_bugs(row, bugs_by_case))} | {esc(used_by(row))} |")
    if len(chosen) > MAX_ROWS:
        lines.append(f"\n… and {len(chosen) - MAX_ROWS} more: see coverage.html or coverage.csv.")
    return lines if chosen else ["None."]


def bug_table(bugs: list[Bug], limit: int | None) -> list[str]:
    if not bugs:
        return ["No failures."]
    lines = ["| bug | in | stage | cases | known | signature | ops | dtypes | smallest example | repro |",
             "|---|---|---|---:|---:|---|---|---|---|---|"]
    shown = bugs if limit is None else bugs[:limit]
    for bug in shown:
        ops = ", ".join(f"`{o}`" for o in bug.ops[:6]) + (f" +{len(bug.ops) - 6}" if len(bug.ops) > 6 else "")
        lines.append(f"| {bug.id} | {bug.owner} | {bug.stage} | {bug.count} | {bug.expected} | {esc(clip(bug.signature))} | "
                     f"{esc(ops)} | {', '.join(bug.dtypes)} | `{esc(bug.example['case_id'])}` "
                     f"({bug.example['target']}, {bug.example_elements} elements) | "
                     f"{f'`{bug.example_repro}`' if bug.example_repro else '-'} |")
    if len(shown) < len(bugs):
        lines.append(f"\n… and {len(bugs) - len(shown)} more in triage.md.")
    return lines


def _changes(title: str, changes: list[Change], limit: int | None) -> list[str]:
    if not changes:
        return []
    lines = [f"### {title} ({len(changes)})", "", "| case | target | before | after | error now |",
             "|---|---|---|---|---|"]
    shown = changes if limit is None else changes[:limit]
    for c in shown:
        lines.append(f"| `{esc(c.case_id)}` | {c.target} | {c.before or '-'} | {c.after or '-'} | "
                     f"{esc(clip(c.after_signature or c.error or '', 120))} |")
    if len(shown) < len(changes):
        lines.append(f"\n… and {len(changes) - len(shown)} more in diff.md.")
    return lines + [""]


def _op_changes(title: str, changes: list[OpChange], limit: int | None) -> list[str]:
    if not changes:
        return []
    shown = changes if limit is None else changes[:limit]
    items = ", ".join(f"`{c.op}` ({c.before} → {c.after})" for c in shown)
    more = f", … and {len(changes) - len(shown)} more" if len(shown) < len(changes) else ""
    return [f"**{title} ({len(changes)})**: {items}{more}", ""]


def diff_section(diff: Diff, baseline: str, limit: int | None = MAX_CHANGES) -> list[str]:
    counts = diff.counts()
    verdict = (f"**Regressed**: {counts['regressions']} cases and {counts['op_regressions']} ops got worse."
               if diff.regressed else "**No regressions.**")
    lines = [f"## Changes since the baseline `{esc(baseline)}`", "", verdict, "",
             "| regressions | fixes | changed signatures | other changes | new cases | vanished cases "
             "| ops worse | ops better | new ops | vanished ops |",
             "|" + "---:|" * 10,
             "| " + " | ".join(str(counts[k]) for k in ("regressions", "fixes", "signatures", "changed", "new",
                                                       "vanished", "op_regressions", "op_fixes", "new_ops",
                                                       "vanished_ops")) + " |", ""]
    lines += _changes("Regressions", diff.regressions, limit)
    lines += _op_changes("Ops that got worse (grade over the cases both runs share)", diff.op_regressions, limit)
    lines += _changes("Fixes", diff.fixes, limit)
    lines += _op_changes("Ops that got better", diff.op_fixes, limit)
    lines += _changes("Changed error signatures", diff.signatures, limit)
    lines += _changes("Other status changes", diff.changed, limit)
    lines += _changes("New cases", diff.new, limit)
    lines += _changes("Vanished cases", diff.vanished, limit)
    lines += _op_changes("New ops (gained their own cases)", diff.new_ops, limit)
    lines += _op_changes("Vanished ops (lost their own cases)", diff.vanished_ops, limit)
    return lines


def findings_section(found: list[Finding], summary: dict) -> list[str]:
    """An exploration's unexpected outcomes: each with its smallest (shrunk) example and repro."""
    env = summary.get("environment") or {}
    seed, profile = env.get("seed", "?"), env.get("profile", "?")
    lines = [f"## New findings ({len(found)})", "",
             f"This run is a nightly exploration: seed {seed}, so draws the gate (seed 0) never sees. What no "
             "expectation explains is listed here and fails nothing; each stays a finding until a person "
             f"declares it or the gate's draws reach it. `harness run --seed {seed} --profile {profile} --ops "
             "CASE_ID` draws a case again.", ""]
    if not found:
        return lines + ["None: every outcome is one an expectation explains.", ""]
    for item in found:
        example = item.example
        lines += [f"### {item.bug + ': ' if item.bug else ''}{esc(clip(item.what, 200))}", "",
                  f"- cases ({len(item.cases)}, {', '.join(item.statuses)}): "
                  + ", ".join(f"`{c}`" for c in item.cases[:10]) + (" …" if len(item.cases) > 10 else ""),
                  f"- {'shrunk' if item.shrunk else 'smallest'} example: `{example['case_id']}` on "
                  f"{example['target']}, inputs {example.get('input_shapes')}"
                  + (f" (shrunk from `{example['shrunk_from']}`)" if item.shrunk else "")
                  + (f"; error: `{esc(clip(example.get('error'), 200))}`" if example.get("error") else ""),
                  f"- repro: {f'`python {item.repro}`' if item.repro else 'none recorded'}"]
        if item.full_repro and item.full_repro != item.repro:
            lines.append(f"- full repro: `python {item.full_repro}`")
        lines.append("")
    return lines


def coverage(summary: dict, matrix: Matrix, bugs: list[Bug], diff: Diff | None, baseline: str | None,
             found: list[Finding] | None = None, splits: list[Split] | None = None,
             roads: list[str] | None = None, left: list[str] | None = None) -> str:
    lines = ["# Coverage of TVM's torch.export importer", "", environment_line(summary), "",
             f"**{summary['cases']} cases**, {summary['unexpected']} unexpected outcomes, "
             f"{summary['bugs']} distinct failures ({summary['bugs_unexpected']} not declared). "
             "Full matrix: `coverage.html` (filterable) and `coverage.csv`; every bug: `triage.md`.", "",
             ]
    if found is not None:
        lines += findings_section(found, summary)
    lines += ["## Summary", ""]
    lines += summary_tables(summary)
    if device_compile_line(summary):
        lines += ["", device_compile_line(summary)]
    lines += ["", GRADE_RULES, "", CELL_RULE, ""]
    if diff is not None:
        lines += diff_section(diff, baseline or "")
    if roads and len(roads) > 1:
        lines += differential_section(splits or [], roads, left=left)
    lines += ["## Ops not fully passing", ""] + problem_rows(matrix, ("op", "opinfo"), bugs)
    lines += ["", "## Models not fully passing", ""] + problem_rows(matrix, ("model",), bugs)
    lines += ["", f"## Bugs (undeclared first, then by cases hit; {len(bugs)} in all)", ""] + bug_table(bugs, MAX_BUGS)
    return "\n".join(lines) + "\n"


def differential_section(found: list[Split], roads: list[str], limit: int | None = MAX_ROWS,
                         left: list[str] | None = None) -> list[str]:
    """Ops that pass through one frontend and fail through another (reports.differential)."""
    lines = ["## Frontends: ops that pass one way and fail another", "",
             f"Frontends in these records: {', '.join(roads)}. A case counts where both roads ran it, one "
             "passed and the other failed (statuses before expectations, which are claims about one road). "
             "The matrix has a column group per frontend and grades each op on "
             f"{roads[0]}'s records.", ""]
    lines += [f"- {line}" for line in headline(found, roads) + (left or [])]
    if not found:
        return lines + [""]
    shown = found if limit is None else found[:limit]
    lines += ["", "| op | passes through | fails through | cases | failing road's signature |", "|---|---|---|---|---|"]
    lines += [f"| `{esc(s.op)}` | {s.passes} | {s.fails} | {len(s.cases)} | {esc(clip(s.signature))} |"
              for s in shown]
    if len(shown) < len(found):
        lines.append(f"\n… and {len(found) - len(shown)} more in triage.md")
    return lines + [""]


def triage(bugs: list[Bug], stale: list[dict], found: list[Finding] | None = None,
           summary: dict | None = None, splits: list[Split] | None = None, roads: list[str] | None = None,
           left: list[str] | None = None) -> str:
    lines = ["# Triage: failures grouped by error signature", "",
             "One row per distinct bug: those no expectation declares first, then by cases hit. `in` says whose "
             "bug it is: PyTorch where the case fails before TVM sees it (eager, export, decompose, trace, dynamo), else TVM. `known` counts the cases a declared expectation "
             "explains (xfail). The smallest example is the failing case with the fewest input elements; "
             "its repro script rebuilds the case with only torch and TVM and prints `status: WORD`: the short "
             "one (inputs as literals, the call spelled out, one screen; shown below each bug) where the "
             "case allows it, else the full one.", ""]
    if found is not None:
        lines += findings_section(found, summary or {})
    lines += bug_table(bugs, None)
    if roads and len(roads) > 1:
        lines += [""] + differential_section(splits or [], roads, limit=None, left=left)
    for bug in bugs:
        lines += ["", f"## {bug.id}: {esc(clip(bug.signature, 200))}", "",
                  f"- in {bug.owner}, stage `{bug.stage}`, statuses {', '.join(f'{s} {n}' for s, n in bug.statuses.items())}, "
                  f"targets {', '.join(bug.targets)}",
                  f"- ops: {', '.join(f'`{o}`' for o in bug.ops)}",
                  f"- dtypes: {', '.join(bug.dtypes)}",
                  f"- smallest example: `{bug.example['case_id']}` on {bug.example['target']}, inputs "
                  f"{bug.example.get('input_shapes')}; error: `{esc(bug.example.get('error'))}`",
                  f"- repro: {f'`python {bug.example_repro}`' if bug.example_repro else 'none recorded'}"]
        if bug.example_full_repro and bug.example_full_repro != bug.example_repro:
            lines.append(f"- full repro (every stage as the harness runs it): `python {bug.example_full_repro}`")
        elif bug.example_repro and bug.example.get("short_repro_error"):
            lines.append(f"- no short repro: {esc(bug.example['short_repro_error'])}")
        if bug.example_short_source:
            lines += ["", "<details><summary>short repro</summary>", "", "```python",
                      bug.example_short_source.rstrip("\n"), "```", "", "</details>"]
        lines += [f"- known: {reason}" for reason in bug.reasons]
        lines += [f"- link: {link}" for link in bug.links]
    if stale:
        lines += ["", "## Unexpected passes (stale expectations)", "", "| case | target | expectation |",
                  "|---|---|---|"]
        lines += [f"| `{esc(r['case_id'])}` | {r['target']} | {esc(clip(expectation_of(r).get('reason')))} |"
                  for r in stale]
    return "\n".join(lines) + "\n"


def diff_page(diff: Diff, baseline: str) -> str:
    return "\n".join(diff_section(diff, baseline, limit=None)) + "\n"

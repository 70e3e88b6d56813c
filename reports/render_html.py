"""coverage.html: the whole matrix in one self-contained file (inline CSS, JS and SVG; no network).

Sections: the summary figures and environment, the trend of pass counts over the recorded runs,
the diff against the baseline (when there is one), the triage list, the matrix (sortable, and
filterable by op, family, grade, status, target and dtype), and the cases behind every cell
that is not a clean pass: each such cell links to its cases, each case shows its error, its
bug and relative links to its repro scripts (the short one first, where the run wrote one; the
triage list also shows each bug's short repro inline).
"""

from __future__ import annotations

import hashlib
import html
import re
from pathlib import Path

from harness.records import expectation_of
from reports import html_assets, render_md, universe
from reports.diff import Change, Diff, OpChange
from reports.load import (
    SEVERITY,
    Run,
    frontend_of,
    full_repro_link,
    input_elements,
    repro_link,
    split_column,
)
from reports.matrix import GRADES, Cell, Matrix, MatrixRow
from reports.summary import device_compile_line
from reports.triage import Bug, bug_of

_CLEAN = ("pass", "skip", "compiles")


def e(text) -> str:
    return html.escape(str(text if text is not None else ""), quote=True)


def inline(markdown: str) -> str:
    """The few inline markdown marks the shared prose uses (`code`, **bold**, *italic*), as HTML."""
    text = e(markdown)
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
    text = re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", text)
    return re.sub(r"\*([^*]+)\*", r"<i>\1</i>", text)


def anchor(prefix: str, *parts: str) -> str:
    """A readable, unique element id (the hash keeps `a+b` and `a_b` apart)."""
    joined = "--".join(parts)
    digest = hashlib.sha1(joined.encode()).hexdigest()[:6]
    return f"{prefix}-{re.sub(r'[^A-Za-z0-9_.-]', '_', joined)[:80]}-{digest}"


def _table(header: list[str], rows: list[list[str]], cls: str = "") -> str:
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(rows_cell for rows_cell in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _td(value, cls: str = "") -> str:
    return f'<td class="{cls}">{value}</td>' if cls else f"<td>{value}</td>"


def summary_section(summary: dict) -> str:
    rows = []
    for key, label in render_md.DENOMINATOR_LABELS.items():
        counts = summary["denominators"][key]
        rows.append([_td(e(label)), _td(counts["total"], "n")] + [_td(counts[g], "n") for g in GRADES])
    grades = _table(["denominator", "rows", *GRADES], rows, "figures")
    statuses = [s for s, n in summary["statuses"].items() if n]
    rows = [[_td(e(t)), _td(sum(c.values()), "n")] + [_td(c[s], "n") for s in statuses]
            for t, c in summary["statuses_by_target"].items()]
    rows.append([_td("<b>all</b>"), _td(summary["cases"], "n")] + [_td(summary["statuses"][s], "n") for s in statuses])
    by_status = _table(["target", "cases", *statuses], rows, "figures")
    legend = " ".join(f'<span class="k-{o}">{o}</span>' for o in SEVERITY)
    kernels = device_compile_line(summary)
    by_status += f"<p>{e(kernels)}</p>" if kernels else ""
    return (f'<section id="summary"><h2>Summary</h2>{grades}<p></p>{by_status}'
            f'<p class="muted">{inline(render_md.GRADE_RULES)}</p>'
            f'<p class="muted">{inline(render_md.CELL_RULE)}</p><p class="legend">{legend}</p></section>')


def trend_svg(history: list[dict], width: int = 640, height: int = 170) -> str:
    """Pass counts (and unexpected outcomes, and fully passing convert-map keys) per recorded run."""
    series = [("pass", "#1a7f37", lambda h: h.get("statuses", {}).get("pass", 0)),
              ("unexpected", "#cf222e", lambda h: h.get("unexpected", 0)),
              ("convert-map keys full", "#0969da", lambda h: h.get("full", {}).get("convert_map", 0))]
    left, right, top, bottom = 44, 160, 10, 28
    top_value = max([1] + [f(h) for _, _, f in series for h in history])
    span = max(1, len(history) - 1)

    def x(i: int) -> float:
        return left + (width - left - right) * (i / span if len(history) > 1 else 0.5)

    def y(v: float) -> float:
        return top + (height - top - bottom) * (1 - v / top_value)

    parts = [f'<svg id="trend-chart" width="{width}" height="{height}" '
             f'role="img" aria-label="pass counts per run">',
             f'<line x1="{left}" y1="{y(0)}" x2="{width - right}" y2="{y(0)}" stroke="#d0d7de"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{y(0)}" stroke="#d0d7de"/>',
             f'<text x="{left - 4}" y="{top + 8}" text-anchor="end">{top_value}</text>',
             f'<text x="{left - 4}" y="{y(0)}" text-anchor="end">0</text>']
    for number, (label, colour, value) in enumerate(series):
        points = " ".join(f"{x(i):.1f},{y(value(h)):.1f}" for i, h in enumerate(history))
        if len(history) > 1:
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>')
        for i, h in enumerate(history):
            parts.append(f'<circle cx="{x(i):.1f}" cy="{y(value(h)):.1f}" r="3" fill="{colour}">'
                         f'<title>{e(h.get("run"))} ({e(h.get("finished"))}): {label} {value(h)}</title></circle>')
        parts.append(f'<text x="{width - right + 10}" y="{top + 12 + 16 * number}" style="fill:{colour}">'
                     f'{label}: {value(history[-1]) if history else 0}</text>')
    for i, h in enumerate(history):
        if len(history) <= 8 or i in (0, len(history) - 1):
            parts.append(f'<text x="{x(i):.1f}" y="{height - 8}" text-anchor="middle">{e((h.get("finished") or "")[:10])}</text>')
    parts.append("</svg>")
    note = "" if len(history) > 1 else '<p class="muted">One run recorded so far; the trend grows with each report.</p>'
    return (f'<section id="trend"><h2>Trend over {len(history)} recorded runs</h2>{"".join(parts)}{note}'
            f'<p class="muted">From history.jsonl in this directory (carried forward from the baseline).</p></section>')


def _change_rows(changes: list[Change]) -> list[list[str]]:
    return [[_td(e(c.case_id), "name"), _td(e(c.target)), _td(e(c.before or "-")), _td(e(c.after or "-")),
             _td(e(c.after_signature or c.error or ""), "sig")] for c in changes]


def _op_change_rows(changes: list[OpChange]) -> list[list[str]]:
    return [[_td(e(c.op), "name"), _td(e(c.family)), _td(e(c.before)), _td(e(c.after))] for c in changes]


def diff_section(diff: Diff, baseline: str) -> str:
    counts = diff.counts()
    verdict = (f'<p class="regressed">Regressed: {counts["regressions"]} cases and {counts["op_regressions"]} ops got worse.</p>'
               if diff.regressed else '<p class="clean">No regressions.</p>')
    parts = [f'<section id="diff"><h2>Changes since the baseline {e(baseline)}</h2>{verdict}',
             _table(list(counts), [[_td(n, "n") for n in counts.values()]], "figures")]
    for title, key in (("Regressions", "regressions"), ("Fixes", "fixes"), ("Changed error signatures", "signatures"),
                       ("Other status changes", "changed"), ("New cases", "new"), ("Vanished cases", "vanished")):
        changes = getattr(diff, key)
        if changes:
            parts.append(f"<h3>{title} ({len(changes)})</h3>")
            parts.append(_table(["case", "target", "before", "after", "error now"], _change_rows(changes)))
    for title, key in (("Ops that got worse", "op_regressions"), ("Ops that got better", "op_fixes"),
                       ("New ops", "new_ops"), ("Vanished ops", "vanished_ops")):
        changes = getattr(diff, key)
        if changes:
            parts.append(f"<h3>{title} ({len(changes)})</h3>")
            parts.append(_table(["op", "family", "before", "after"], _op_change_rows(changes)))
    return "".join(parts) + "</section>"


def _repro_cell(link: str, full: str | None) -> str:
    """The repro shown (the short one where there is one) and, beside it, the full one."""
    cell = f'<a href="{e(link)}">{e(link)}</a>'
    return cell + (f' (<a href="{e(full)}">full</a>)' if full and full != link else "")


def triage_section(bugs: list[Bug], stale: list[dict], directory: Path) -> str:
    rows = []
    for bug in bugs:
        example = bug.example
        link = f'<a href="#{anchor("case", example["case_id"], example["target"])}">{e(example["case_id"])}</a>'
        repro = _repro_cell(bug.example_repro, bug.example_full_repro) if bug.example_repro else "-"
        if bug.example_short_source:
            repro += f'<details><summary>show</summary><pre>{e(bug.example_short_source)}</pre></details>'
        known = "".join(f'<details><summary>known</summary><span class="muted">{e(r)}</span></details>'
                        for r in bug.reasons)
        rows.append([f'<td id="bug-{bug.id}">{bug.id}</td>', _td(e(bug.stage)), _td(bug.count, "n"),
                     _td(bug.expected, "n"), _td(e(bug.signature) + known, "sig"),
                     _td(e(", ".join(bug.ops)), "sig"), _td(e(", ".join(bug.dtypes))),
                     _td(f"{link} ({e(example['target'])}, {input_elements(example)} elements)", "path"),
                     _td(repro, "path")])
    table = (_table(["bug", "stage", "cases", "known", "signature", "ops", "dtypes", "smallest example", "repro"],
                    rows, "figures") if bugs else "<p>No failures.</p>")
    extra = ""
    if stale:
        extra = "<h3>Unexpected passes (stale expectations)</h3>" + _table(
            ["case", "target", "expectation"],
            [[_td(e(r["case_id"]), "name"), _td(e(r["target"])),
              _td(e(expectation_of(r).get("reason")), "sig")] for r in stale])
    return f'<section id="triage"><h2>Triage: {len(bugs)} distinct failures</h2>{table}{extra}</section>'


def _filters(matrix: Matrix) -> str:
    def select(id_: str, label: str, values) -> str:
        options = "".join(f'<option value="{e(v)}">{e(v)}</option>' for v in values)
        return f'<label>{label} <select id="{id_}"><option value="">all</option>{options}</select></label>'

    targets = sorted({c.split("/")[0] for c in matrix.columns})
    dtypes = sorted({c.split("/")[1] for c in matrix.columns})
    statuses = [s for s in SEVERITY if any(s in r.own for r in matrix.rows)]
    families = sorted({r.row.family for r in matrix.rows})
    return ('<div class="filters">'
            '<label>op <input type="search" id="f-op" placeholder="name contains…"></label>'
            + select("f-family", "family", families) + select("f-grade", "grade", GRADES)
            + select("f-status", "status", statuses) + select("f-target", "target", targets)
            + select("f-dtype", "dtype", dtypes)
            + '<label><input type="checkbox" id="f-cases"> only rows with cases</label>'
            '<span id="f-count" class="muted"></span></div>')


def _cell(row: MatrixRow, col: str, cell: Cell | None) -> str:
    if cell is None:
        return f'<td data-col="{e(col)}" data-v="-1"></td>'
    ran = sum(n for o, n in cell.counts.items() if o not in ("skip", "compiles"))
    value = cell.counts.get("pass", 0) / ran if ran else -0.5
    text = e(cell.text)
    if cell.worst not in _CLEAN:
        text = f'<a href="#{anchor("cell", row.name, col)}">{text}</a>'
    return f'<td class="k-{cell.worst}" data-col="{e(col)}" data-v="{value:.4f}">{text}</td>'


def matrix_section(matrix: Matrix) -> str:
    head = ["<th>name</th>", "<th>family</th>", "<th>denominators</th>", "<th>grade</th>", "<th>cases for it</th>"]
    for col in matrix.columns:
        target, dtype = col.split("/")
        head.append(f'<th class="col" data-col="{e(col)}">{e(target)}<br>{e(dtype)}</th>')
    head += ["<th>used by cases</th>", "<th>used by models</th>", "<th>no-case reason</th>"]
    body = []
    rank = {g: i for i, g in enumerate(GRADES)}
    # Rows with a verdict first (worst grade first), so the page opens on what needs work.
    first = {g: i for i, g in enumerate(("none", "unproven", "partial", "compiles", "full", "skipped", "not run", "no case"))}
    for row in sorted(matrix.rows, key=lambda r: (universe.FAMILIES.index(r.row.family), first[r.grade], r.name)):
        targets = sorted({c.split("/")[0] for c in row.cells})
        dtypes = sorted({c.split("/")[1] for c in row.cells})
        cells = [_td(e(row.name), "name"), _td(e(row.row.family)), _td(e("+".join(row.row.denominators) or "-")),
                 f'<td class="g-{row.grade.replace(" ", "-")}" data-v="{rank[row.grade]}">{e(row.grade)}</td>',
                 f'<td data-v="{sum(row.own.values())}">{sum(row.own.values()) or ""}</td>']
        cells += [_cell(row, col, row.cells.get(col)) for col in matrix.columns]
        uses = f"{row.uses.get('pass', 0)}/{sum(row.uses.values())} pass" if row.uses else ""
        models = ""
        if row.models:
            full = sum(g == "full" for g in row.models.values())
            listing = ", ".join(f"{m} ({g})" for m, g in row.models.items())
            models = f'<details><summary>{len(row.models)} ({full} full)</summary>{e(listing)}</details>'
        reason = row.row.no_case or ("planned, not in these records" if row.grade == "not run" else "")
        cells += [f'<td data-v="{sum(row.uses.values())}">{e(uses)}</td>', f'<td class="wrap" data-v="{len(row.models)}">{models}</td>',
                  _td(e(reason), "reason")]
        body.append(f'<tr data-op="{e(row.name)}" data-family="{e(row.row.family)}" data-grade="{e(row.grade)}" '
                    f'data-statuses="{e(" ".join(row.statuses))}" data-targets="{e(" ".join(targets))}" '
                    f'data-dtypes="{e(" ".join(dtypes))}">' + "".join(cells) + "</tr>")
    return (f'<section id="coverage"><h2>Matrix: {len(matrix.rows)} rows</h2>'
            '<p class="muted">Cells and grades count the cases <i>for</i> a row (the record\'s <code>op</code>); '
            '"used by" counts cases whose decomposed graph merely contains the op (<code>aten_ops</code>). '
            'Click a header to sort; a coloured cell links to its cases.</p>'
            + _filters(matrix) + '<div class="scroll"><table id="matrix"><thead><tr>' + "".join(head)
            + "</tr></thead><tbody>" + "\n".join(body) + "</tbody></table></div></section>")


def cases_section(matrix: Matrix, run: Run, bugs: list[Bug]) -> str:
    records: dict[tuple[str, str], list[dict]] = {}
    for r in run.records:
        records.setdefault((r["case_id"], r["target"]), []).append(r)
    bugs_by_case = bug_of(bugs)
    parts = ['<section id="cases"><h2>Cases behind every cell that is not a clean pass</h2>']
    for row in matrix.rows:
        for col, cell in row.cells.items():
            if cell.worst in _CLEAN:
                continue
            road, target, _ = split_column(col)  # road None: one frontend in these records
            chosen = [r for c in cell.case_ids for r in records.get((c, target), [])
                      if road is None or frontend_of(r) == road]
            chosen = [r for r in chosen if r["status"] != "pass" or r.get("degenerate")]
            rows = []
            for r in chosen:
                link = repro_link(r, run.directory)
                full = full_repro_link(r, run.directory)
                bug = bugs_by_case.get((r["case_id"], r["target"]))
                detail = r.get("error") or (f"degenerate reference: {r['degenerate']}" if r.get("degenerate") else "")
                if r.get("expectation"):
                    detail += f" — expected: {expectation_of(r).get('reason', '')}"
                rows.append([f'<td id="{anchor("case", r["case_id"], r["target"])}" class="name">{e(r["case_id"])}</td>',
                             _td(e(r["status"]), f"k-{r['status']}"), _td(e(r.get("stage"))),
                             _td(f'<a href="#bug-{bug}">{bug}</a>' if bug else ""), _td(e(detail), "sig"),
                             _td(_repro_cell(link, full) if link else e(r.get("repro") or "-"))])
            parts.append(f'<div class="cell-cases" id="{anchor("cell", row.name, col)}"><h3>{e(row.name)} · {e(col)}: '
                         f'{e(cell.text)}</h3>' + _table(["case", "status", "stage", "bug", "error", "repro"], rows)
                         + "</div>")
    return "".join(parts) + "</section>"


def page(summary: dict, matrix: Matrix, run: Run, bugs: list[Bug], stale: list[dict],
         history: list[dict], diff: Diff | None, baseline: str | None) -> str:
    nav = ['<a href="#summary">summary</a>', '<a href="#trend">trend</a>']
    if diff is not None:
        nav.append('<a href="#diff">diff</a>')
    nav += ['<a href="#triage">triage</a>', '<a href="#coverage">matrix</a>', '<a href="#cases">failing cases</a>']
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>Coverage of TVM's torch.export importer</title>"
            f"<style>{html_assets.CSS}</style></head><body>"
            "<h1>Coverage of TVM's torch.export importer</h1>"
            f'<p class="env">{e(render_md.environment_line(summary))}</p>'
            f'<p><b>{summary["cases"]} cases</b>, {summary["unexpected"]} unexpected outcomes, '
            f'{summary["bugs"]} distinct failures.</p><nav>{" ".join(nav)}</nav>'
            + summary_section(summary) + trend_svg(history)
            + (diff_section(diff, baseline or "") if diff is not None else "")
            + triage_section(bugs, stale, run.directory) + matrix_section(matrix) + cases_section(matrix, run, bugs)
            + f"<script>{html_assets.JS}</script></body></html>\n")

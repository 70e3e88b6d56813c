"""The stylesheet and script inlined into coverage.html: one file, nothing fetched over a network."""

CSS = """
body { font: 13px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 16px 40px; color: #1b1f24; }
h1 { font-size: 20px; margin: 14px 0 4px; } h2 { font-size: 16px; margin: 22px 0 6px; }
h3 { font-size: 13px; margin: 12px 0 4px; }
nav a { margin-right: 12px; } .env { color: #57606a; margin: 0 0 6px; }
table { border-collapse: collapse; } th, td { border: 1px solid #d0d7de; padding: 2px 6px; vertical-align: top; }
th { background: #f6f8fa; position: sticky; top: 0; z-index: 1; }
table.figures td.n { text-align: right; font-variant-numeric: tabular-nums; }
#matrix th { cursor: pointer; white-space: nowrap; } #matrix th.col { font-weight: normal; }
#matrix td { white-space: nowrap; }
#matrix td.name { font-family: ui-monospace, monospace; white-space: normal; overflow-wrap: anywhere;
                  min-width: 330px; max-width: 400px; position: sticky; left: 0; background: #fff; }
#matrix th:first-child { position: sticky; left: 0; z-index: 2; }
#matrix td.reason, #matrix td.wrap { white-space: normal; max-width: 360px; color: #57606a; }
.filters { padding: 6px 0; }
.scroll { overflow: auto; max-height: 85vh; border: 1px solid #d0d7de; }
.filters label { margin-right: 10px; } .filters input[type=search] { width: 220px; }
.k-pass { background: #dafbe1; } .k-degenerate { background: #fff8c5; } .k-xfail { background: #eaeef2; }
.k-compiles { background: #ddf4ff; } .k-skip { color: #8c959f; }
.k-mismatch, .k-xpass, .k-export_error, .k-import_unsupported, .k-import_error, .k-compile_error,
.k-run_error, .k-deploy_error, .k-crash, .k-timeout { background: #ffebe9; }
.g-full { color: #1a7f37; font-weight: 600; } .g-partial { color: #9a6700; font-weight: 600; }
.g-compiles { color: #0969da; font-weight: 600; }
.g-none { color: #cf222e; font-weight: 600; } .g-unproven { color: #9a6700; font-weight: 600; } .g-skipped, .g-not-run, .g-no-case { color: #8c959f; }
.sig { font-family: ui-monospace, monospace; font-size: 12px; max-width: 480px; white-space: normal;
       overflow-wrap: anywhere; }
.path { font-family: ui-monospace, monospace; font-size: 12px; max-width: 220px; overflow-wrap: anywhere; }
details summary { cursor: pointer; color: #57606a; }
.cell-cases { margin: 8px 0 14px; } .muted { color: #57606a; }
.legend span { padding: 1px 6px; margin-right: 4px; border: 1px solid #d0d7de; }
.regressed { color: #cf222e; font-weight: 600; } .clean { color: #1a7f37; font-weight: 600; }
svg text { font-size: 11px; fill: #57606a; }
"""

# Sorting: a click on a header orders the body by that column (numbers when both cells carry a
# numeric data-v, text otherwise); a second click reverses. Filtering: a row shows when it matches
# every control; the dtype and target controls also hide the other matrix columns.
JS = r"""
(function () {
  const table = document.getElementById('matrix');
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  const get = id => document.getElementById(id);
  const controls = ['f-op', 'f-family', 'f-grade', 'f-status', 'f-target', 'f-dtype', 'f-cases'];
  function has(list, value) { return (' ' + list + ' ').indexOf(' ' + value + ' ') >= 0; }
  function apply() {
    const op = get('f-op').value.trim().toLowerCase();
    const family = get('f-family').value, grade = get('f-grade').value, status = get('f-status').value;
    const target = get('f-target').value, dtype = get('f-dtype').value, cases = get('f-cases').checked;
    let shown = 0;
    for (const row of rows) {
      const d = row.dataset;
      const ok = (!op || d.op.toLowerCase().indexOf(op) >= 0) && (!family || d.family === family) &&
        (!grade || d.grade === grade) && (!status || has(d.statuses, status)) &&
        (!target || has(d.targets, target)) && (!dtype || has(d.dtypes, dtype)) &&
        (!cases || d.statuses !== '');
      row.hidden = !ok; if (ok) shown++;
    }
    for (const cell of table.querySelectorAll('[data-col]')) {
      const [t, dt] = cell.dataset.col.split('/');
      cell.hidden = (target && t !== target) || (dtype && dt !== dtype);
    }
    get('f-count').textContent = shown + ' of ' + rows.length + ' rows';
  }
  for (const id of controls) { get(id).addEventListener('input', apply); get(id).addEventListener('change', apply); }
  Array.from(table.tHead.rows[0].cells).forEach((th, index) => {
    th.addEventListener('click', () => {
      const down = th.dataset.dir !== 'asc'; th.dataset.dir = down ? 'asc' : 'desc';
      const key = row => { const c = row.cells[index]; return c.dataset.v !== undefined ? c.dataset.v : c.textContent; };
      rows.sort((a, b) => {
        const x = key(a), y = key(b), nx = parseFloat(x), ny = parseFloat(y);
        const r = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : String(x).localeCompare(String(y));
        return down ? r : -r;
      });
      for (const row of rows) body.appendChild(row);
    });
  });
  apply();
})();
"""

"""The rendered outputs, checked by parsing them: HTML structure and links, JUnit, CSV, JSON, markdown."""

import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from opsuite.coverage import denominators
from reports import plugin as reports_plugin
from reports.load import FAILING
from tests.crafted import record, scenario, write_dir


class Page(HTMLParser):
    """Every element with its attributes, the ids, the links, and the matrix's rows and cells."""

    def __init__(self):
        super().__init__()
        self.elements, self.ids, self.links = [], set(), []
        self.stack, self.matrix_rows, self.current = [], [], None
        self.in_matrix = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.elements.append((tag, attrs))
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "table" and attrs.get("id") == "matrix":
            self.in_matrix = True
        if self.in_matrix and tag == "tr" and "data-op" in attrs:
            self.current = {"attrs": attrs, "cells": []}
            self.matrix_rows.append(self.current)
        if self.in_matrix and tag == "td" and self.current is not None:
            self.current["cells"].append({"attrs": attrs, "links": []})
        if tag == "a" and "href" in attrs:
            self.links.append(attrs["href"])
            if self.in_matrix and self.current is not None and self.current["cells"]:
                self.current["cells"][-1]["links"].append(attrs["href"])

    def handle_endtag(self, tag):
        if tag == "table" and self.in_matrix:
            self.in_matrix = False


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    directory = write_dir(tmp_path_factory.mktemp("outputs"), scenario(), repros=True)
    paths = reports_plugin.render(directory)
    return directory, paths


@pytest.fixture(scope="module")
def page(rendered):
    directory, _ = rendered
    parser = Page()
    parser.feed((directory / "coverage.html").read_text())
    return parser


def test_every_output_is_written(rendered):
    directory, paths = rendered
    names = {Path(p).name for p in paths}
    assert names == {"coverage.md", "coverage.html", "coverage.csv", "summary.json", "junit.xml",
                     "triage.md", "history.jsonl"}
    assert all(Path(p).stat().st_size > 0 for p in paths)
    assert not (directory / "diff.md").exists()


def test_html_has_the_matrix_with_every_row_and_the_filters(page):
    tables = [a for tag, a in page.elements if tag == "table" and a.get("id") == "matrix"]
    assert len(tables) == 1
    ops = {row["attrs"]["data-op"] for row in page.matrix_rows}
    assert set(denominators.union()) <= ops and "opinfo.sin" in ops and "resnet18" in ops
    for control in ("f-op", "f-family", "f-grade", "f-status", "f-target", "f-dtype"):
        assert control in page.ids, control
    status_options = {a.get("value") for tag, a in page.elements if tag == "option"}
    assert {"mismatch", "import_error", "xfail", "compiles"} <= status_options
    headers = [a for tag, a in page.elements if tag == "th" and "data-col" in a]
    assert {"llvm/float32", "llvm/dynamic", "cuda/float32"} <= {h["data-col"] for h in headers}
    mul = next(r for r in page.matrix_rows if r["attrs"]["data-op"] == "aten.mul.Tensor")
    assert mul["attrs"]["data-grade"] == "partial"
    assert set(mul["attrs"]["data-statuses"].split()) == {"mismatch", "pass"}
    assert "float16" in mul["attrs"]["data-dtypes"].split()


def test_every_failing_cell_links_to_its_cases_with_error_and_repro(rendered, page):
    directory, _ = rendered
    failing = [c for row in page.matrix_rows for c in row["cells"]
               if any(c["attrs"].get("class", "") == f"k-{s}" for s in FAILING | {"xfail", "degenerate"})]
    assert len(failing) >= 8
    for cell in failing:
        (link,) = cell["links"]
        assert link.startswith("#cell-") and link[1:] in page.ids
    html = (directory / "coverage.html").read_text()
    section = html[html.index('id="cell-aten.mul.Tensor--llvm_float16'):]
    section = section[:section.index("</div>")]
    assert "aten.mul.Tensor[float16-0]" in section and "RuntimeError: aten.mul.Tensor broke at compare" in section
    repros = re.findall(r'href="(repro/[^"]+)"', section)
    assert len(repros) == 2 and all((directory / r).is_file() for r in repros)


def test_html_links_resolve_and_nothing_is_fetched(rendered, page):
    directory, _ = rendered
    for href in page.links:
        if href.startswith("#"):
            assert href[1:] in page.ids, href
        else:
            assert (directory / href).is_file(), href
    for tag, attrs in page.elements:
        for name in ("src", "href"):
            value = attrs.get(name) or ""
            assert not re.match(r"^([a-z]+:|//)", value), (tag, value)
        assert not (tag == "link" and attrs.get("rel") == "stylesheet")
        assert not (tag == "script" and "src" in attrs)
    assert any(tag == "svg" for tag, _ in page.elements), "the trend chart is inline SVG"


def test_junit_counts_match_the_records(rendered):
    directory, _ = rendered
    root = ET.parse(directory / "junit.xml").getroot()
    assert root.tag == "testsuites"
    cases = root.findall("testsuite/testcase")
    # The scenario's 29 records less its probe; failures: 3 mismatches and 1 xpass; errors: 2
    # import errors and 2 compile errors; skipped: 5 skips and 2 xfails.
    assert len(cases) == int(root.get("tests")) == 28
    assert (int(root.get("failures")), int(root.get("errors")), int(root.get("skipped"))) == (4, 4, 7)
    for suite in root.findall("testsuite"):
        assert int(suite.get("tests")) == len(suite.findall("testcase"))
    (sub,) = [c for c in cases if c.get("name") == "aten.sub.Tensor[float32-0]"]
    assert sub.get("classname") == "aten.sub.Tensor" and sub.find("error").get("type") == "import_error"


def test_csv_and_summary_agree_with_the_matrix(rendered):
    directory, _ = rendered
    csv = pd.read_csv(directory / "coverage.csv", keep_default_na=False)
    by_name = csv.set_index("name")
    assert set(denominators.union()) <= set(by_name.index)
    assert by_name.loc["aten.mul.Tensor", "grade"] == "partial"
    assert by_name.loc["aten.mul.Tensor", "llvm/float16"] == "0/2 · 2 mismatch"
    assert by_name.loc["aten.add.Tensor", "models_using"] == "raft_small:none;resnet18:full"
    summary = json.loads((directory / "summary.json").read_text())
    convert = csv[csv["denominators"].str.contains("convert_map")]
    assert summary["denominators"]["convert_map"]["total"] == len(convert)
    assert summary["denominators"]["convert_map"]["partial"] == int((convert["grade"] == "partial").sum()) == 3
    assert summary["cases"] == 28 and sum(summary["statuses"].values()) == 28
    assert {k: v for k, v in summary["statuses"].items() if v} == {
        "pass": 13, "mismatch": 3, "import_error": 2, "compile_error": 2, "skip": 5, "xfail": 2, "xpass": 1}
    assert summary["environment"]["cpu"] == "test cpu"


def test_the_header_says_which_tvm_gave_the_verdicts(rendered):
    directory, _ = rendered
    expected = ("TVM 0.27.0.post1 (git 0123456789ab, 2026-01-02 03:04:05 +0000; LLVM ON 17.0.6; CUDA OFF; "
                "also CUBLAS) from /opt/tvm/python/tvm")
    assert expected in (directory / "coverage.md").read_text()
    assert expected.replace("+", "&#x2B;") in (directory / "coverage.html").read_text() or \
        expected in (directory / "coverage.html").read_text()


def test_markdown_is_a_summary_not_the_whole_matrix(rendered):
    directory, _ = rendered
    md = (directory / "coverage.md").read_text()
    assert md.count("\n") < 150
    assert "| importer convert-map keys |" in md and "| core ATen overloads |" in md
    problems = md[md.index("## Ops not fully passing"):md.index("## Models not fully passing")]
    assert "`aten.mul.Tensor` | partial" in problems and "aten.add.Tensor" not in problems
    triage = (directory / "triage.md").read_text()
    assert "output N values from aten.mul.Tensor" in triage and "| TVM | compare |" in triage and "Unexpected passes" in triage


def test_markdown_caps_long_lists(tmp_path):
    records = [record(f"aten.op{i}.default[float32-0]", f"aten.op{i}.default", "compile_error",
                      error=f"TVMError: op{i} is unknown") for i in range(90)]
    reports_plugin.render(write_dir(tmp_path, records))
    md = (tmp_path / "coverage.md").read_text()
    assert "… and 30 more: see coverage.html" in md and "… and 75 more in triage.md" in md


def test_triage_html_and_junit_show_the_short_repro_and_fall_back_to_the_full_one(tmp_path):
    from reports import load, triage

    with_short = record("aten.elu.default[float16-0]", "aten.elu.default", "mismatch", input_shapes=[[2]])
    without = record("aten.sin.default[float32-0]", "aten.sin.default", "import_error", input_shapes=[[3]],
                     short_repro_error="the run used the custom convert map m:MAP: only the full repro loads it")
    directory = write_dir(tmp_path, [with_short, without], repros=True)
    short = directory / "repro" / "llvm" / "aten.elu.default_float16-0.short.py"
    short.write_text("x = 1  # the case in one screen\nprint('status: mismatch')\n")
    with_short["short_repro"] = str(short)
    (directory / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in [with_short, without]))
    reports_plugin.render(directory)
    bugs = {b.example["case_id"]: b for b in triage.bugs(load.load(directory))}
    elu, sin = bugs["aten.elu.default[float16-0]"], bugs["aten.sin.default[float32-0]"]
    assert elu.example_repro == "repro/llvm/aten.elu.default_float16-0.short.py"
    assert elu.example_full_repro == "repro/llvm/aten.elu.default_float16-0.py"
    assert sin.example_repro == sin.example_full_repro == "repro/llvm/aten.sin.default_float32-0.py"
    md = (directory / "triage.md").read_text()
    assert "- repro: `python repro/llvm/aten.elu.default_float16-0.short.py`" in md
    assert "- full repro (every stage as the harness runs it): `python repro/llvm/aten.elu.default_float16-0.py`" in md
    assert "```python\nx = 1  # the case in one screen\nprint('status: mismatch')\n```" in md
    assert "- repro: `python repro/llvm/aten.sin.default_float32-0.py`" in md
    assert "- no short repro: the run used the custom convert map m:MAP" in md
    html = (directory / "coverage.html").read_text()
    assert 'href="repro/llvm/aten.elu.default_float16-0.short.py"' in html
    assert '(<a href="repro/llvm/aten.elu.default_float16-0.py">full</a>)' in html
    assert "x = 1  # the case in one screen" in html
    junit = (directory / "junit.xml").read_text()
    assert f"short repro: {short}" in junit

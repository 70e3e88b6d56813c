"""Shards: balanced by expected cost, deterministic, and merged into the report of an unsharded run."""

import json
import random
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import torch

from harness import sources
from harness.cli import main
from harness.merge import MergeError, merge
from harness.records import read_results
from reports import plugin as reports_plugin
from tests.crafted import record, write_dir
from tests.helpers import add_case, op_case, run, sin_case


@pytest.fixture(scope="module")
def zoo():
    return sources.load(["model"], "nightly", 0)


@pytest.mark.parametrize("count", [2, 3, 4])
def test_shards_partition_the_cases_and_balance_their_cost(zoo, count):
    shards = [sources.shard(zoo, i, count) for i in range(1, count + 1)]
    ids = [c.case_id for shard in shards for c in shard]
    assert sorted(ids) == sorted(c.case_id for c in zoo) and len(set(ids)) == len(ids)
    loads = [sum(c.cost for c in shard) for shard in shards]
    biggest = max(c.cost for c in zoo)
    # Longest-processing-time first: no shard exceeds another by more than one case's cost.
    assert max(loads) - min(loads) <= biggest
    sizes = [len(shard) for shard in shards]
    assert len(set(sizes)) > 1, "the zoo's costs differ, so equal cost must mean unequal counts"


def test_shards_do_not_depend_on_the_order_cases_come_in(zoo):
    shuffled = list(zoo)
    random.Random(7).shuffle(shuffled)
    for index in (1, 2, 3):
        first = [c.case_id for c in sources.shard(zoo, index, 3)]
        other = [c.case_id for c in sources.shard(shuffled, index, 3)]
        assert set(first) == set(other)
        # A shard keeps the order its cases came in.
        assert other == [c.case_id for c in shuffled if c.case_id in set(first)]


def _costed(name: str, cost: float):
    return op_case("aten.sin.default", [torch.zeros(1)], variant=name, cost=cost)


def test_shards_of_a_fixed_set_are_exactly_the_longest_first_split():
    # Costs a=5 b=4 c=3 d=3 e=2 f=2 g=1 into 3 shards, costliest first (ties by id), each to the
    # lightest shard so far (ties: the lower shard): a, b, c open the shards; d joins c (3),
    # e joins b (4), f joins a (5), g joins b (6 against 7 and 6).
    cases = [_costed(name, cost) for name, cost in
             [("g", 1), ("f", 2), ("e", 2), ("d", 3), ("c", 3), ("b", 4), ("a", 5)]]
    shards = [[c.case_id.split("-")[1].rstrip("]") for c in sources.shard(cases, i, 3)] for i in (1, 2, 3)]
    assert shards == [["f", "a"], ["g", "e", "b"], ["d", "c"]]
    assert [sum(c.cost for c in sources.shard(cases, i, 3)) for i in (1, 2, 3)] == [7, 7, 6]


def _cases():
    gen = torch.Generator().manual_seed(3)
    return [
        sin_case(cost=3.0),
        add_case(cost=1.0),
        op_case("aten.add.Tensor", [torch.randn(3, 4, generator=gen).half(), torch.randn(4, generator=gen).half()],
                {"alpha": 2}, dtype="float16", variant="alpha", cost=1.5),
        op_case("aten.special_bessel_j0.default", [torch.randn(5, generator=gen)], cost=2.0),
    ]


def _without_timing(summary: dict) -> dict:
    return {k: v for k, v in summary.items() if k != "seconds_total"}


@pytest.mark.slow
def test_merged_shards_render_like_an_unsharded_run(tmp_path):
    cases = _cases()
    whole = tmp_path / "whole"
    run(cases, whole)
    parts = []
    for index in (1, 2):
        part = tmp_path / f"shard{index}"
        chosen = sources.shard(cases, index, 2)
        assert chosen, "both shards must hold cases for the merge to mean anything"
        run(chosen, part)
        parts.append(part)
    merged = tmp_path / "merged"
    assert main(["merge", *map(str, parts), "--out", str(merged)]) == 0
    reports_plugin.render(whole)
    statuses = {r["status"] for r in read_results(whole)}
    assert {"pass", "mismatch", "import_unsupported"} <= statuses

    for name in ("coverage.csv", "coverage.md", "triage.md"):
        assert (merged / name).read_text() == (whole / name).read_text(), name
    summaries = [json.loads((d / "summary.json").read_text()) for d in (whole, merged)]
    assert _without_timing(summaries[0]) == _without_timing(summaries[1])
    junits = []
    for d in (whole, merged):
        root = ET.parse(d / "junit.xml").getroot()
        junits.append(sorted((c.get("name"), [x.tag for x in c]) for c in root.iter("testcase")))
    assert junits[0] == junits[1]
    # Every failure keeps its repro, copied into the merged directory and pointed to there.
    failures = {r["case_id"] for r in read_results(whole) if r["repro"]}
    assert len(failures) >= 2
    for r in read_results(merged):
        if r["case_id"] in failures:
            assert r["repro"].startswith(str(merged)) and Path(r["repro"]).is_file(), r["case_id"]
        else:
            assert r["repro"] is None, r["case_id"]


def test_merge_joins_targets_and_refuses_a_case_twice(tmp_path, capsys):
    cpu = write_dir(tmp_path / "cpu", [record("aten.a.default[float32-0]", "aten.a.default", "mismatch")], repros=True)
    gpu = write_dir(tmp_path / "gpu", [record("aten.a.default[float32-0]", "aten.a.default", target="cuda")])
    for directory, target in ((cpu, "llvm"), (gpu, "cuda")):
        (directory / "run.json").write_text(json.dumps({"target": target, "profile": "quick", "seed": 0}))
    out = tmp_path / "both"
    assert merge([cpu, gpu], out) == 2
    assert json.loads((out / "run.json").read_text())["target"] == "cuda+llvm"
    (failing,) = [r for r in read_results(out) if r["status"] == "mismatch"]
    assert failing["repro"] == str(out / "repro" / "llvm" / "aten.a.default_float32-0.py")
    with pytest.raises(MergeError, match="is in both"):
        merge([cpu, cpu], tmp_path / "twice")
    assert main(["merge", str(cpu), str(cpu), "--out", str(tmp_path / "again")]) == 2
    assert "is in both" in capsys.readouterr().err
    (gpu / "run.json").write_text(json.dumps({"target": "cuda", "profile": "nightly", "seed": 0}))
    with pytest.raises(MergeError, match="disagree on profile"):
        merge([cpu, gpu], tmp_path / "mixed")

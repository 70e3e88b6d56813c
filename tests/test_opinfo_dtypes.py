"""The stored OpInfo dtype table must be what the installed torch's database says."""

import torch

from opsuite.table import opinfo_dtypes, row
from opsuite.table.opinfo_dtypes_gen import live, render


def test_stored_table_equals_the_live_database():
    assert opinfo_dtypes.TORCH == torch.__version__, (
        "the stored table is for another torch: run python -m opsuite.table.opinfo_dtypes_gen")
    assert opinfo_dtypes.DTYPES == live(), "stale: run python -m opsuite.table.opinfo_dtypes_gen"


def test_rendered_table_reads_back():
    table = {"sin": ("float32", "int8"), "add": ("bool",)}
    namespace: dict = {}
    exec(render("9.9", table), namespace)
    assert namespace["TORCH"] == "9.9" and namespace["DTYPES"] == table


def test_another_torch_reads_the_live_database(monkeypatch):
    monkeypatch.setattr(opinfo_dtypes, "TORCH", "0.0-not-this-one")
    monkeypatch.setattr(opinfo_dtypes, "DTYPES", {"sin": ("float32",)})
    row._opinfo_dtypes.cache_clear()
    try:
        assert "int8" in row._opinfo_dtypes()["sin"]
    finally:
        row._opinfo_dtypes.cache_clear()

"""Known TVM failures as data, and the command that keeps them true.

    known_failures/*.toml  one file per op-table module, plus dynamic.toml, opinfo.toml and
                           models.toml: each [[expect]] is one bug, with a required reason
    entries.py             loads the files and attaches each entry to the cases it names
    predicates.py          the named `when` predicates an entry may scope by
    rewrite.py             `python -m opsuite.expectations update|suggest DIR`: rewrite the
                           files from a run's results, or draft entries for new failures

How to declare a known bug: add an [[expect]] to the file of the table module (or models.toml)
whose cases it breaks, with `op`, a `reason` that says what TVM does wrong (checked in TVM's
source), the `status` and `stage` it fails at and a `match` on its one-line error; scope it
with `dtypes`, `targets`, `kinds` or `when` until it names exactly the failing cases, and with
`tvm = ">=0.27"` (a version specifier) when the bug is in some TVM releases only.
"""

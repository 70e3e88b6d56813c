"""What to test per aten op: the `op` and `opinfo` case families (families.py).

    families.py   the two families the engine finds through its entry points: `op` (the op
                  table's rows and the dynamic-shape programs) and `opinfo` (OpInfo samples)
    table/        the op table: one OpRow per overload and way to call it (how to add an op:
                  table/__init__.py)
    draw/         how arguments are drawn: Ctx, shapes, values, shared call generators
    generate.py   rows -> cases: hypothesis examples per profile, derandomised by the run's seed
    shrink.py     nightly: failures shrunk to minimal examples
    dynamic/      dynamic-shape programs: exported with symbolic dims, run at several sizes
    opinfo/       PyTorch's OpInfo samples as cases, and the screen that picks them
    standalone/   program factories and property checks a repro script embeds verbatim
    expectations/ known TVM failures as data (how to declare one: expectations/__init__.py),
                  and `python -m opsuite.expectations update|suggest DIR`
    coverage/     the coverage denominators and what is planned for each of their ops
    test_ops.py   the same cases as pytest items: `pytest opsuite -k aten.add -n auto`

Arrows run one way: table/ uses draw/ and standalone/; the families use table/, dynamic/,
opinfo/ and expectations/; nothing here imports the reports.
"""

"""Same seed, same cases: generation depends on the seed alone, not on what else is loaded."""

import importlib.util
import sys

from hypothesis import strategies as st

from opsuite.generate import collect


def test_cases_do_not_depend_on_the_project_modules_loaded(tmp_path):
    strategy = st.tuples(st.integers(-10**12, 10**12), st.floats(allow_nan=False, width=64))
    before = collect(strategy, 200, seed=7)
    # A project module full of constants hypothesis would otherwise mix into its draws.
    path = tmp_path / "constant_values_module.py"
    path.write_text("VALUES = [" + ", ".join(str(987654321 + i) for i in range(300)) + "]\n"
                    "FLOATS = [" + ", ".join(f"{i}.123456789" for i in range(300)) + "]\n")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    try:
        spec.loader.exec_module(module)
        after = collect(strategy, 200, seed=7)
    finally:
        del sys.modules[path.stem]
    assert after == before

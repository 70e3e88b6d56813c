"""A run whose two workers hang, as its own process, so a test can kill it and look for them.

    python -m tests.orphaned_workers LOG_DIR PID_FILE

Each case appends its worker's pid to PID_FILE, then hangs in its converter.
"""

import sys
from pathlib import Path

from harness import env
from harness.case import Case, Program
from harness.pool import Pool, PoolOptions
from harness.records import new_record
from tests.factories import pid_program

if __name__ == "__main__":
    log_dir, pid_file = Path(sys.argv[1]), sys.argv[2]
    cases = [Case(f"test.pid[float32-{i}]", "op", "aten.sin.default",
                  Program(pid_program, {"pid_file": pid_file}), "float32") for i in range(2)]
    versions = env.library_versions()
    with Pool(PoolOptions(target="llvm", jobs=2, log_dir=log_dir, convert_map="tests.converters:HANGS")) as pool:
        for _ in pool.run([(case, new_record(case, "llvm", versions)) for case in cases]):
            pass

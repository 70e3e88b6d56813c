"""The warm server (harness.forkserver): workers it forks give the records started ones give,
crash, hang and die with their run like them, and it refuses rather than fork stale or foreign
code. Each test's server is private: XDG_RUNTIME_DIR points at a directory of its own."""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from harness import env, forkserver
from harness.case import Case, Program
from harness.pool import Pool, PoolOptions
from harness.records import new_record
from tests import factories
from tests.helpers import run, sin_case, stable

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def _short_dir():
    """A directory of its own, removed afterwards, with a short path: a socket's may hold at most
    107 bytes, which pytest's tmp_path can exceed."""
    path = tempfile.mkdtemp(prefix="hs")
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def runtime_dir():
    with _short_dir() as path:
        yield path


def _private_server(monkeypatch, runtime_dir: str, **environ) -> dict:
    monkeypatch.setenv("XDG_RUNTIME_DIR", runtime_dir)
    monkeypatch.delenv("HARNESS_FORKSERVER", raising=False)
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    return forkserver.start(idle=300)


@pytest.fixture(scope="module")
def server():
    """One server for the module's tests that leave it as it was (each counts its own forks)."""
    with pytest.MonkeyPatch.context() as monkeypatch, _short_dir() as runtime_dir:
        answer = _private_server(monkeypatch, runtime_dir)
        yield answer
        assert forkserver.stop() == answer["pid"]


@pytest.fixture
def forks(server, monkeypatch):
    """Forks since the test began; the server's variables are the test's too."""
    monkeypatch.setenv("XDG_RUNTIME_DIR", os.environ["XDG_RUNTIME_DIR"])
    before = forkserver.ping()["forks"]
    return lambda: forkserver.ping()["forks"] - before


def _ppid(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def test_a_forked_worker_gives_the_records_a_started_one_gives(server, forks, tmp_path, monkeypatch):
    pid_file = tmp_path / "pids"
    case = Case("test.pid[float32-0]", "op", "aten.sin.default",
                Program(factories.pid_program, {"pid_file": str(pid_file)}), "float32")
    with Pool(PoolOptions(target="llvm", log_dir=tmp_path / "logs")) as pool:
        list(pool.run([(case, new_record(case, "llvm", env.library_versions()))]))
        (worker,) = (int(line) for line in pid_file.read_text().split())
        assert _ppid(worker) == server["pid"] != os.getpid()
    forked = run([sin_case()], tmp_path / "forked", convert_map="tests.converters:WRONG")
    assert forks() == 2
    monkeypatch.setenv("HARNESS_FORKSERVER", "0")
    started = run([sin_case()], tmp_path / "started", convert_map="tests.converters:WRONG")
    assert forks() == 2
    assert forked["aten.sin.default[float32-0]"]["status"] == "mismatch"
    assert {k: stable(r) for k, r in forked.items()} == {k: stable(r) for k, r in started.items()}


@pytest.mark.parametrize("converters, status, detail", [
    ("SEGFAULTS", "crash", "SIGSEGV"), ("ABORTS", "crash", "SIGABRT"), ("HANGS", "timeout", "no result within 3s")])
def test_a_forked_worker_crashes_and_hangs_like_a_started_one(forks, tmp_path, converters, status, detail):
    (record,) = run([sin_case()], tmp_path, convert_map=f"tests.converters:{converters}", timeout=3).values()
    assert (record["status"], record["stage"]) == (status, "import")
    assert detail in record["error"]
    assert forks() == 1


def test_a_variable_torch_or_tvm_reads_at_import_makes_the_worker_start_cold(forks, tmp_path, monkeypatch):
    monkeypatch.setenv("TVM_HARNESS_PROBE", "1")
    (record,) = run([sin_case()], tmp_path).values()
    assert record["status"] == "pass" and forks() == 0
    log = (tmp_path / "logs" / "worker-0.log").read_text().splitlines()
    assert log[0] == "started cold, not forked by the warm server: TVM_HARNESS_PROBE differs from the server's"


def test_a_path_that_imports_another_tvm_is_refused(tmp_path):
    (tmp_path / "tvm").mkdir()
    (tmp_path / "tvm" / "__init__.py").write_text("")
    import tvm  # noqa: F401 - the server's check compares against the imported module

    why = forkserver._origin_mismatch([str(tmp_path), *sys.path])
    assert why == f"this run's sys.path imports tvm from {tmp_path / 'tvm' / '__init__.py'}, " \
                  f"the server's from {sys.modules['tvm'].__file__}"
    assert forkserver._origin_mismatch(list(sys.path)) is None
    # A run started elsewhere finds the harness through its installation, not its directory.
    elsewhere = [p for p in sys.path if p not in ("", ".", str(ROOT))]
    assert forkserver._origin_mismatch(elsewhere, "/") is None


def test_only_a_value_the_server_did_not_start_with_or_set_itself_differs():
    started, imported = {"TVM_LIBRARY_PATH": "/a"}, {"TVM_LIBRARY_PATH": "/a", "TORCHINDUCTOR_CACHE_DIR": "/t"}
    same = [{"TVM_LIBRARY_PATH": "/a"}, {"TVM_LIBRARY_PATH": "/a", "TORCHINDUCTOR_CACHE_DIR": "/t", "CUDA_PATH": "/c"}]
    assert [forkserver._env_mismatch(env, started, imported) for env in same] == [None, None]
    assert forkserver._env_mismatch({}, started, imported) == "TVM_LIBRARY_PATH differs from the server's"
    assert forkserver._env_mismatch({"TVM_LIBRARY_PATH": "/a", "TORCHINDUCTOR_CACHE_DIR": "/u"}, started,
                                    imported) == "TORCHINDUCTOR_CACHE_DIR differs from the server's"
    assert forkserver._env_mismatch({"TVM_LIBRARY_PATH": "/a", "TVM_NUM_THREADS": "7"}, started, imported) is None


def test_a_changed_file_stops_the_server_and_workers_start_cold(tmp_path, monkeypatch, runtime_dir):
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text("")  # imported by every interpreter this PYTHONPATH starts
    first = _private_server(monkeypatch, runtime_dir, PYTHONPATH=os.pathsep.join([str(site), str(ROOT)]))
    later = time.time() + 10
    os.utime(site / "sitecustomize.py", (later, later))
    (record,) = run([sin_case()], tmp_path / "run").values()
    assert record["status"] == "pass"
    deadline = time.monotonic() + 30
    while forkserver.ping() is not None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert forkserver.ping() is None, "a stale server went on listening"
    log = forkserver.address().with_suffix(".log").read_text()
    assert f"serving on {forkserver.address()} (pid {first['pid']})" in log
    assert (tmp_path / "run" / "logs" / "worker-0.log").read_text().startswith(
        f"started cold, not forked by the warm server: {site / 'sitecustomize.py'} changed since the server started")


def test_no_forked_worker_outlives_a_killed_run(server, tmp_path):
    pid_file = tmp_path / "pids"
    proc = subprocess.Popen([sys.executable, "-m", "tests.orphaned_workers", str(tmp_path), str(pid_file)],
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and (not pid_file.exists() or len(pid_file.read_text().split()) < 2):
            assert proc.poll() is None, "the run ended before its workers hung"
            time.sleep(0.1)
        workers = [int(p) for p in pid_file.read_text().split()]
        assert len(workers) == 2 and {_ppid(p) for p in workers} == {server["pid"]}
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in workers):
        time.sleep(0.1)
    assert not [p for p in workers if Path(f"/proc/{p}").exists()], "workers outlived the killed run"

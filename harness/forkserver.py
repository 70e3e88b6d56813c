"""A warm start for workers: a server that has imported torch and TVM forks each worker.

Starting a worker costs seconds before its first case (imports of torch and TVM, dynamo's own
start); a short `harness check` is mostly that wait. `harness serve` starts this server in the
background: it imports what a worker imports, computes nothing, and forks a worker for each
request. The forked child is the same program as `python -m harness.worker` (harness.worker.main)
with the requester's arguments, environment, working directory, sys.path and pipes; harness.pool
uses the server when one answers for this Python and this checkout, and starts workers the usual
way when none does or it refuses.

It refuses, and the worker starts cold, rather than run stale or different code: when a file of
any module or shared library it loaded changed since it started (it then stops taking requests
and exits once its workers end), when the requester's sys.path would import torch, TVM, numpy
or the harness from elsewhere, or when a variable that torch or TVM read at import differs.

A forked worker lives in its own session, like a started one. The server kills it when the
requester's connection closes (the run ended or was killed), reports its exit status on that
connection, and forks nothing while it has imported more than modules: no case runs in it.

    python -m harness.forkserver [--idle SECONDS]     # what `harness serve` starts
"""

from __future__ import annotations

import hashlib
import os
import pickle
import selectors
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import harness

# What a worker imports before its first case (harness.worker.main, its warm-up, the stages).
PRELOAD = ("numpy", "torch", "torch.export", "torch._dynamo", "tvm", "tvm.relax",
           "tvm.relax.frontend.torch", "harness.worker", "harness.stages", "harness.batch",
           "harness.cia_override", "harness.decompose_cache", "harness.env", "harness.targets")
# Packages whose origin a requester's sys.path must resolve to the same file.
ORIGINS = ("numpy", "torch", "tvm", "harness")
# Variables torch, TVM, numpy, LLVM or Python may read when imported. Left out: the thread
# counts, which each worker sets and TVM and torch read when their pools start, and CUDA's,
# read when CUDA starts or a kernel is compiled, in the worker (the server starts no device).
READ_AT_IMPORT = ("TVM_", "TORCH", "PYTORCH", "LD_", "OMP_", "KMP_", "MKL", "OPENBLAS", "NUMPY",
                  "LLVM", "PYTHONHASHSEED", "PYTHONHOME")
PER_WORKER = {"TVM_NUM_THREADS", "OMP_NUM_THREADS"}
DEFAULT_IDLE = 1800.0
START_SECONDS = 180.0
REPLY_SECONDS = 30.0  # a fork takes a fraction of a second; past this the worker starts cold
_MESSAGE = 1 << 20


class ServerError(Exception):
    pass


def address() -> Path:
    """The socket of the server for this Python interpreter and this harness checkout."""
    key = hashlib.sha256(f"{os.path.realpath(sys.executable)}\0{Path(harness.__file__).parent}".encode())
    base = Path(os.environ.get("XDG_RUNTIME_DIR") or "/tmp") / f"harness-{os.getuid()}"
    return base / f"forkserver-{key.hexdigest()[:16]}.sock"


def import_env(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k.startswith(READ_AT_IMPORT) and k not in PER_WORKER}


def _send(conn: socket.socket, message: dict, fds: list[int] = ()) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    if fds:
        socket.send_fds(conn, [data], list(fds))
    else:
        conn.send(data)


def _private(directory: Path) -> bool:
    """Whether only this user can put a socket in `directory`."""
    try:
        owner = directory.stat()
    except OSError:
        return False
    return owner.st_uid == os.getuid() and not owner.st_mode & 0o077


def _connect(path: Path) -> socket.socket | None:
    if not _private(path.parent):
        return None
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        conn.connect(str(path))
    except OSError:
        conn.close()
        return None
    return conn


# --- the requester's side --------------------------------------------------------------------

class Forked:
    """A worker the server forked, with the parts of subprocess.Popen that harness.pool uses
    (pid, stdin, stdout, wait, returncode); it is killed by its process group, as a started one."""

    def __init__(self, conn: socket.socket, pid: int, stdin_fd: int, stdout_fd: int):
        self.conn, self.pid, self.returncode = conn, pid, None
        self.stdin = os.fdopen(stdin_fd, "wb")
        self.stdout = os.fdopen(stdout_fd, "rb")

    def _ended(self, data: bytes) -> int:
        # No exit message: the server itself died, and its workers with it (PR_SET_PDEATHSIG).
        self.returncode = pickle.loads(data)["exit"] if data else -signal.SIGKILL
        self.conn.close()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            self.conn.settimeout(timeout)
            try:
                self._ended(self.conn.recv(_MESSAGE))
            except TimeoutError:
                raise subprocess.TimeoutExpired(f"worker {self.pid}", timeout) from None
        return self.returncode


def fork_worker(argv: list[str], env: dict[str, str], stderr_fd: int) -> tuple[Forked | None, str]:
    """A worker forked by this environment's server, or (None, why not) to start one cold."""
    if os.environ.get("HARNESS_FORKSERVER", "1") == "0":
        return None, "HARNESS_FORKSERVER=0"
    conn = _connect(address())
    if conn is None:
        return None, "no server"
    stdin_r, stdin_w = os.pipe()
    stdout_r, stdout_w = os.pipe()
    try:
        conn.settimeout(REPLY_SECONDS)
        _send(conn, {"op": "fork", "argv": argv, "env": env, "cwd": os.getcwd(), "path": list(sys.path)},
              [stdin_r, stdout_w, stderr_fd])
        reply = pickle.loads(conn.recv(_MESSAGE) or pickle.dumps({"refused": "the server closed"}))
        conn.settimeout(None)
    except OSError as err:
        reply = {"refused": f"{type(err).__name__}: {err}"}
    finally:
        os.close(stdin_r)
        os.close(stdout_w)
    if "pid" not in reply:
        conn.close()
        os.close(stdin_w)
        os.close(stdout_r)
        return None, reply["refused"]
    return Forked(conn, reply["pid"], stdin_w, stdout_r), ""


def ping(path: Path | None = None) -> dict | None:
    """The server's answer ({pid, started, forks, stale, idle}) or None when none listens."""
    conn = _connect(path or address())
    if conn is None:
        return None
    with conn:
        conn.settimeout(10)
        try:
            _send(conn, {"op": "ping"})
            return pickle.loads(conn.recv(_MESSAGE))
        except (OSError, EOFError, pickle.UnpicklingError):
            return None


def stop() -> int | None:
    """Ask the server to exit once its workers end; its pid, or None when none listens."""
    conn = _connect(address())
    if conn is None:
        return None
    with conn:
        conn.settimeout(10)
        _send(conn, {"op": "stop"})
        return pickle.loads(conn.recv(_MESSAGE))["pid"]


def start(idle: float = DEFAULT_IDLE) -> dict:
    """Start this environment's server in the background (unless a fresh one listens) and wait
    until it answers; its ping."""
    answer = ping()
    if answer is not None and not answer["stale"]:
        return answer
    path = address()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    log = path.with_suffix(".log")
    with open(log, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "harness.forkserver", "--idle", repr(idle)],
                                stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True)
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        answer = ping()
        if answer is not None and not answer["stale"]:
            return answer
        if proc.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()
            raise ServerError("the server did not start: " + (tail[-1] if tail else f"exit status {proc.returncode}"))
        time.sleep(0.1)
    proc.kill()
    raise ServerError(f"the server did not answer within {START_SECONDS:g}s (log: {log})")


# --- the server's side -----------------------------------------------------------------------

def _loaded_files() -> dict[str, tuple[int, int]]:
    """(mtime, size) of every file of a loaded module and every shared library mapped in."""
    paths = {getattr(m, "__file__", None) for m in list(sys.modules.values())}
    try:
        with open("/proc/self/maps") as maps:
            paths |= {line.split(None, 5)[5].strip() for line in maps if line.count(" ") >= 5 and "/" in line}
    except OSError:
        pass
    files = {}
    for path in paths:
        if path and path.startswith("/"):
            try:
                st = os.stat(path)
            except OSError:
                continue
            files[path] = (st.st_mtime_ns, st.st_size)
    return files


def _changed(files: dict[str, tuple[int, int]]) -> str | None:
    for path, seen in files.items():
        try:
            st = os.stat(path)
            now = (st.st_mtime_ns, st.st_size)
        except OSError:
            now = None
        if now != seen:
            return path
    return None


def _origin(name: str, path: list[str]) -> str | None:
    """Where `import name` would load from with `path` as sys.path (meta path finders such as an
    editable install's included), the module already imported here notwithstanding."""
    saved = sys.path[:]
    sys.path[:] = path
    try:
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            spec = find(name, None) if find is not None else None
            if spec is not None:
                return spec.origin
        return None
    finally:
        sys.path[:] = saved


def _origin_mismatch(path: list[str], cwd: str = ".") -> str | None:
    path = [os.path.join(cwd, entry) for entry in path]  # '' and relative entries: the run's directory
    for name in ORIGINS:
        there, here = _origin(name, path), sys.modules[name].__file__
        if there is None or os.path.realpath(there) != os.path.realpath(here):
            return f"this run's sys.path imports {name} from {there}, the server's from {here}"
    return None


def _env_mismatch(env: dict[str, str], started: dict[str, str], imported: dict[str, str]) -> str | None:
    """The first variable read at import whose value is neither the one the server started with
    nor the one its imports set (torch sets TORCHINDUCTOR_CACHE_DIR to its default)."""
    theirs = import_env(env)
    for key in sorted(set(started) | set(imported) | set(theirs)):
        if theirs.get(key) not in (started.get(key), imported.get(key)):
            return f"{key} differs from the server's"
    return None


def _child(request: dict, fds: list[int], own: list[int]) -> None:
    """The forked worker: the requester's pipes, environment and path, then harness.worker.main."""
    code = 2
    try:
        for fd in own:
            os.close(fd)
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_DFL if sig != signal.SIGINT else signal.default_int_handler)
        signal.set_wakeup_fd(-1)
        os.setsid()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        sys.path[:] = request["path"]
        import importlib

        importlib.invalidate_caches()
        from harness import worker

        sys.argv = [worker.__file__, *request["argv"]]
        code = worker.main(request["argv"])
    except BaseException:  # noqa: BLE001 - the parent reads the log's last line
        import traceback

        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(code)


class _Server:
    def __init__(self, path: Path, idle: float, env: dict[str, str]):
        self.path, self.idle, self.env = path, idle, env
        self.files = _loaded_files()
        self.started, self.last = time.time(), time.monotonic()
        self.stale: str | None = None
        self.forks = 0
        self.children: dict[int, socket.socket | None] = {}  # pid -> its requester's connection
        self.selector = selectors.DefaultSelector()
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.listener.bind(str(path))
        self.listener.listen(64)
        self.selector.register(self.listener, selectors.EVENT_READ)
        self.wake_r, wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(wake_w, False)
        signal.set_wakeup_fd(wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.signal(signal.SIGTERM, lambda *_: self._close_listener("SIGTERM"))
        self.selector.register(self.wake_r, selectors.EVENT_READ)
        self.own = [self.listener.fileno(), self.wake_r, wake_w, self.selector.fileno()]

    def _close_listener(self, why: str) -> None:
        """Take no more requests; exit once every worker forked so far has ended."""
        if self.stale is None:
            self.stale = why
        if self.listener.fileno() >= 0:
            self.selector.unregister(self.listener)
            self.listener.close()
            try:
                self.path.unlink()
            except FileNotFoundError:
                pass

    def _answer(self, conn: socket.socket) -> None:
        try:
            data, fds, _, _ = socket.recv_fds(conn, _MESSAGE, 3)
        except OSError:
            data, fds = b"", []
        if not data:  # the requester went away: its worker must not outlive it
            self._drop(conn)
            return
        request = pickle.loads(data)
        op = request.get("op")
        if op == "ping":
            self._check()
            _send(conn, {"pid": os.getpid(), "started": self.started, "forks": self.forks, "stale": self.stale,
                         "idle": self.idle})
        elif op == "stop":
            self._close_listener("stopped")
            _send(conn, {"pid": os.getpid()})
        elif op == "fork":
            self._fork(conn, request, fds)
            return
        self._drop(conn)

    def _check(self) -> None:
        changed = self.stale is None and _changed(self.files)
        if changed:
            self._close_listener(f"{changed} changed since the server started")

    def _fork(self, conn: socket.socket, request: dict, fds: list[int]) -> None:
        self._check()
        why = self.stale or (_origin_mismatch(request["path"], request["cwd"])
                             or _env_mismatch(request["env"], self.env, import_env(dict(os.environ))))
        if why or len(fds) != 3:
            for fd in fds:
                os.close(fd)
            _send(conn, {"refused": why or "three pipes expected"})
            self._drop(conn)
            return
        # The child keeps none of the server's descriptors: a copy of another requester's
        # connection would hide that requester's end from the server.
        own = self.own + [key.fd for key in self.selector.get_map().values()]
        pid = os.fork()
        if pid == 0:
            _child(request, fds, sorted({fd for fd in own if fd >= 0} | {conn.fileno()}))
        for fd in fds:
            os.close(fd)
        self.forks += 1
        self.children[pid] = conn
        _send(conn, {"pid": pid})

    def _drop(self, conn: socket.socket) -> None:
        for pid, owner in self.children.items():
            if owner is conn:
                self.children[pid] = None
                try:
                    os.killpg(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        try:
            self.selector.unregister(conn)
        except (KeyError, ValueError):
            pass
        conn.close()

    def _reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            conn = self.children.pop(pid, None)
            if conn is not None:
                try:
                    _send(conn, {"exit": os.waitstatus_to_exitcode(status)})
                except OSError:
                    pass
                self._drop(conn)

    def serve(self) -> None:
        while True:
            for key, _ in self.selector.select(timeout=1.0):
                self.last = time.monotonic()
                if key.fileobj is self.listener:
                    conn, _ = self.listener.accept()
                    self.selector.register(conn, selectors.EVENT_READ)
                elif key.fileobj == self.wake_r:
                    try:
                        os.read(self.wake_r, 4096)
                    except BlockingIOError:
                        pass
                else:
                    self._answer(key.fileobj)
            self._reap()
            busy = self.children or len(self.selector.get_map()) > (2 if self.stale is None else 1)
            if not busy and (self.stale is not None or time.monotonic() - self.last > self.idle):
                self._close_listener("idle")
                return


def _threads() -> int:
    return len(os.listdir("/proc/self/task"))


def serve(idle: float) -> int:
    import importlib

    path = address()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not _private(path.parent):
        raise ServerError(f"{path.parent} must be this user's alone (mode 700)")
    env = import_env(dict(os.environ))  # as the imports found it: torch's add to it
    # numpy's OpenBLAS starts its thread pool when loaded and stops it around a fork
    # (pthread_atfork); any other thread an import left running would be copied mid-lock.
    importlib.import_module("numpy")
    allowed = _threads()
    for name in PRELOAD:
        importlib.import_module(name)
    if _threads() > allowed:
        raise ServerError(f"{_threads() - allowed} threads started by the imports: forking would copy their locks")
    if ping(path) is not None:
        print(f"a server already listens on {path}", flush=True)
        return 0
    try:
        path.unlink()  # a socket file left by a server that was killed
    except FileNotFoundError:
        pass
    print(f"serving on {path} (pid {os.getpid()})", flush=True)
    _Server(path, idle, env).serve()
    return 0


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m harness.forkserver")
    parser.add_argument("--idle", type=float, default=DEFAULT_IDLE)
    return serve(parser.parse_args(argv).idle)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

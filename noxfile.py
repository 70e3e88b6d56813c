"""Sessions: tests, slow, cpu, lint (default); gpu, models, roads, report, bench, mutations, batch_identity, compat on demand.

All sessions share one environment, `.venv`, created and kept in step with pyproject.toml
here: torch with CUDA is ~5.5 GB, so one copy per session would cost minutes and gigabytes
for nothing. Versions are pinned in pyproject.toml only. Arguments after `--` go through:

    nox -s tests -- -k faults
    nox -s cpu -- --ops 'aten.add*'
    nox -s report -- --baseline results/last-night
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"
STAMP = VENV / ".pyproject-sha256"
RESULTS = ROOT / "results"

nox.options.sessions = ["lint", "tests", "slow", "cpu"]


def _env(session: nox.Session) -> str:
    """The project environment's python, (re)installed when pyproject.toml changed (also under
    `nox --install-only`, which sets it up and runs nothing else).

    HARNESS_TVM (a TVM version or wheel path/URL) puts that TVM over the pinned one, as the
    nightly workflow's manual trigger asks (`python -m harness.nightly install-tvm`).
    """
    tvm = os.environ.get("HARNESS_TVM", "").strip()
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + tvm.encode()).hexdigest()
    if not PYTHON.exists():
        base = shutil.which("python3.11") or sys.executable
        session.run_install(base, "-m", "venv", str(VENV), external=True)
    if not STAMP.exists() or STAMP.read_text() != digest:
        session.run_install(str(PYTHON), "-m", "pip", "install", "--quiet", "--upgrade", "pip", external=True)
        session.run_install(str(PYTHON), "-m", "pip", "install", "--quiet", "-e", str(ROOT), external=True)
        if tvm:
            session.run_install(str(PYTHON), "-m", "harness.nightly", "install-tvm", tvm, external=True)
        STAMP.write_text(digest)
    return str(PYTHON)


def _harness(session: nox.Session, *args: str, **kwargs) -> None:
    session.run(_env(session), "-m", "harness", *args, external=True, **kwargs)


def _pytest(session: nox.Session, marks: str) -> None:
    """pytest, with a warm server (`harness serve`) forking the workers of the tests' runs:
    most of them would otherwise spend their time importing torch and TVM."""
    workers = str(min(2, os.cpu_count() or 1))
    _harness(session, "serve", "--idle", "900")
    try:
        session.run(_env(session), "-m", "pytest", "tests", "-q", "-p", "no:cacheprovider", "-m", marks,
                    "-n", workers, "--durations=15", *session.posargs, external=True)
    finally:
        _harness(session, "serve", "--stop")


@nox.session(venv_backend="none")
def tests(session: nox.Session) -> None:
    """The harness's own tests: broken converters, isolation, resume, reports, generators."""
    _pytest(session, "not slow")


@nox.session(venv_backend="none")
def slow(session: nox.Session) -> None:
    """The tests that run whole profiles or many cases (a second fault on every known wrong
    output, two nightly shards, bug-report drafts, short repros of every family); CI runs them."""
    _pytest(session, "slow")


@nox.session(venv_backend="none", default=False)
def batch_identity(session: nox.Session) -> None:
    """The quick op profile unbatched and batched: every verdict must be the same (tests/batch_identity.py)."""
    out = _output(RESULTS / "batch-identity", session.posargs)
    session.run(_env(session), "-m", "tests.batch_identity", str(out), *session.posargs, external=True)


@nox.session(venv_backend="none", default=False)
def mutations(session: nox.Session) -> None:
    """One-line breakages of the engine that the tests must catch (tests/mutations.py; slow)."""
    session.run(_env(session), "-m", "tests.mutations", *session.posargs, external=True)


@nox.session(venv_backend="none")
def cpu(session: nox.Session) -> None:
    """The quick op suite and quick models on CPU (llvm), with reports in results/cpu."""
    out = _output(RESULTS / "cpu", session.posargs)
    _harness(session, "run", "--target", "llvm", "--out", str(out), *session.posargs)


@nox.session(venv_backend="none", default=False)
def gpu(session: nox.Session) -> None:
    """The quick suite on CUDA after `harness doctor`; `-- --smoke`: a minute's end-to-end check."""
    python = _env(session)
    # 0: runs on the GPU; 3: compile only (no GPU); 1: CUDA kernels cannot be compiled at all.
    session.run(python, "-m", "harness", "doctor", external=True, success_codes=[0, 3])
    has_gpu = session.run(python, "-c", "import tvm; print(int(tvm.cuda(0).exist))", external=True,
                          silent=True).strip().endswith("1")
    args = [a for a in session.posargs if a != "--smoke"]
    if not has_gpu:
        session.warn("No CUDA device: every case is compiled for CUDA and its kernels device-compiled "
                     "for several archs; its run is recorded as skip (no-gpu). Run this session on a "
                     "GPU machine to compare.")
    if "--smoke" in session.posargs:
        out = _output(RESULTS / "gpu-smoke", args)
        ops = session.run(python, "-c", "from harness.smoke import SMOKE_OPS; print(' '.join(SMOKE_OPS))",
                          external=True, silent=True).split()
        _harness(session, "run", "--target", "cuda", "--ops", *ops, "--out", str(out), *args,
                 success_codes=[0, 1])
        session.run(python, "-m", "harness.smoke", str(out), external=True)
        return
    out = _output(RESULTS / "gpu", args)
    _harness(session, "run", "--target", "cuda", "--out", str(out), *args)


@nox.session(venv_backend="none", default=False)
def roads(session: nox.Session) -> None:
    """The quick op suite through every road into TVM (export, fx, dynamo) on the same draws, merged
    into results/roads/merged, whose reports list the ops that pass one road and fail another.
    Only the export road has declared failures: fx and dynamo's unexpected outcomes are findings
    to read there, not this session's failure (a broken harness still is)."""
    out = _output(RESULTS / "roads", session.posargs)
    roads = ("export", "fx", "dynamo")
    for road in roads:
        _harness(session, "run", "--ops", "--frontend", road, "--out", str(out / road), *session.posargs,
                 success_codes=[0] if road == "export" else [0, 1])
    _harness(session, "merge", *(str(out / road) for road in roads), "--out", str(out / "merged"))


@nox.session(venv_backend="none", default=False)
def models(session: nox.Session) -> None:
    """The whole TorchVision zoo on CPU (hours on 2 cores; resumable with -- --resume)."""
    out = _output(RESULTS / "models", session.posargs)
    _harness(session, "run", "--models", "--profile", "nightly", "--jobs", "1", "--out", str(out),
             *session.posargs)


@nox.session(venv_backend="none", default=False)
def report(session: nox.Session) -> None:
    """Render results/cpu (or a directory given after --), optionally against --baseline DIR."""
    args = list(session.posargs)
    if not args or args[0].startswith("-"):
        args.insert(0, str(RESULTS / "cpu"))
    _harness(session, "report", *args)


@nox.session(venv_backend="none", default=False)
def compat(session: nox.Session) -> None:
    """An older TVM release against the pinned one: `-- 0.26.0` (harness/compat.py; ~20 min on 2 cores)."""
    if not session.posargs or session.posargs[0].startswith("-"):
        session.error("name the release to compare: nox -s compat -- 0.26.0")
    session.run(_env(session), "-m", "harness.compat", *session.posargs, external=True)


@nox.session(venv_backend="none", default=False)
def bench(session: nox.Session) -> None:
    """Harness overhead against a bare loop over the same stages, as ratios from one run."""
    session.run(_env(session), "-m", "harness.bench", *session.posargs, external=True)


@nox.session(venv_backend="none")
def lint(session: nox.Session) -> None:
    """ruff over the whole project, actionlint over its CI workflows."""
    session.run(_env(session), "-m", "ruff", "check", str(ROOT), external=True)
    try:
        command = actionlint_command(ROOT)
    except FileNotFoundError as err:
        session.error(str(err))
    session.run(*command, external=True)


def actionlint_command(root: Path) -> list[str]:
    """actionlint (pinned in pyproject.toml, installed beside the environment's python) over
    root's .github/workflows, with root's .github/actionlint.yaml (self-hosted runner labels)."""
    workflows = sorted((root / ".github" / "workflows").glob("*.y*ml"))
    if not workflows:
        raise FileNotFoundError(f"no workflow files under {root / '.github' / 'workflows'}")
    command = [str(VENV / "bin" / "actionlint"), "-no-color"]
    config = root / ".github" / "actionlint.yaml"
    if config.exists():
        command += ["-config-file", str(config)]
    return command + [str(w) for w in workflows]


def _output(out: Path, posargs) -> Path:
    """`out`, with an earlier run there moved aside (to out-<mtime>) unless resuming it.

    The previous night's directory is what `nox -s report -- --baseline` compares against.
    """
    results = out / "results.jsonl"
    if results.exists() and "--resume" not in posargs:
        out.rename(out.with_name(f"{out.name}-{int(results.stat().st_mtime)}"))
    return out

"""`python -m harness.compat VERSION` (`nox -s compat -- VERSION`): an older TVM release against the pinned one.

    1. an environment for the release: ROOT/.compat/tvm-VERSION, a venv whose site-packages hold
       apache-tvm==VERSION (and only what it needs that the project's environment lacks) and a
       .pth file that adds the project's environment's site-packages after its own: torch and
       the rest are not copied (torch is 5.5 GB); `import tvm` there must give VERSION and
       `import torch` the project's torch, or the command stops
    2. the quick suite (`harness run --ops --models`) under that release into results/compat-VERSION,
       and under the pinned release into results/compat-PINNED; a directory whose run finished
       under the same fingerprint (TVM version, path and build; torch, torchvision, python;
       target, profile, seed; the run's arguments) is reused, not run again
    3. the release diff (`python -m reports.release_diff`), reading forward from the older release
       (the baseline) to the pinned one, into results/compat-VERSION/compat.md; its headline is printed

Exit status: 0 the diff was written, 1 a step failed (environment, install, a run that could not
finish), 2 bad input (not a version, the pinned version itself).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
BAD_INPUT, FAILED = 2, 1
STAMP = "compat-run.json"
# Fingerprint fields that decide whether a finished run can stand for a new one.
SAME_RUN_KEYS = ("tvm_version", "tvm_path", "tvm_git_commit", "tvm_build", "torch_version",
                 "torchvision_version", "python", "target", "profile", "seed")


class CompatError(Exception):
    """A step failed: the message is the one line printed."""


def _say(text: str) -> None:
    print(text, flush=True)


def _env() -> dict:
    # This checkout's harness, whichever environment's python runs it.
    path = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": str(ROOT) + (os.pathsep + path if path else "")}


def _python_json(python: str, code: str) -> object:
    done = subprocess.run([python, "-c", code], capture_output=True, text=True, env=_env(), cwd=ROOT,
                          check=False)
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise CompatError(f"{python}: {tail}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def site_packages(python: str) -> list[str]:
    return _python_json(python, "import json, sysconfig; p = sysconfig.get_paths(); "
                                "print(json.dumps(sorted({p['purelib'], p['platlib']})))")


def imported(python: str) -> dict:
    """What `import tvm` and `import torch` give under `python`: versions and directories."""
    return _python_json(python, "import json, torch, tvm; from harness import env; print(json.dumps("
                                "{'tvm': tvm.__version__, 'tvm_path': env.tvm_path(), 'torch': torch.__version__, "
                                "'torch_path': str(__import__('pathlib').Path(torch.__file__).parent)}))")


def release_env(version: str, base_python: str, root: Path) -> str:
    """The python of an environment with apache-tvm==version first on the path and everything
    else from base_python's environment; made once, checked every time."""
    venv = root / f"tvm-{version}"
    python = venv / "bin" / "python"
    if not python.exists():
        _say(f"+ {base_python} -m venv {venv}")
        if subprocess.run([base_python, "-m", "venv", str(venv)], check=False).returncode != 0:
            raise CompatError(f"could not create {venv}")
    own = site_packages(str(python))
    base = [p for p in site_packages(base_python) if p not in own]
    # addsitedir, not a bare path line: the base's own .pth files (editable installs) apply too.
    (Path(own[0]) / "_compat_base_env.pth").write_text(
        "".join(f"import site; site.addsitedir({p!r})\n" for p in base))
    try:
        got = imported(str(python))
    except CompatError:
        got = {}
    if not got or Version(got["tvm"]) != Version(version):
        # With the base visible, pip installs only what it lacks or needs in another version, into
        # this venv (it never uninstalls outside the environment it runs in).
        command = [str(python), "-m", "pip", "install", "--quiet", f"apache-tvm=={version}"]
        _say("+ " + " ".join(command))
        if subprocess.run(command, check=False).returncode != 0:
            raise CompatError(f"pip could not install apache-tvm=={version} into {venv}")
        got = imported(str(python))
    check_release_env(got, version, venv)
    _say(f"{venv}: tvm {got['tvm']} from {got['tvm_path']}; torch {got['torch']} from {got['torch_path']}")
    return str(python)


def check_release_env(got: dict, version: str, venv: Path) -> None:
    """TVM must be the release, from the venv; torch must come from the base, not a copy."""
    if Version(got["tvm"]) != Version(version):
        raise CompatError(f"{venv}: import tvm gives {got['tvm']}, not {version}")
    if not Path(got["tvm_path"]).resolve().is_relative_to(venv.resolve()):
        raise CompatError(f"{venv}: import tvm loads {got['tvm_path']}, outside the release's environment")
    if Path(got["torch_path"]).resolve().is_relative_to(venv.resolve()):
        raise CompatError(f"{venv}: torch was installed into the release's environment ({got['torch_path']}); "
                          "it should come from the project's")


def same_run(directory: Path, fingerprint: dict, run_args: list[str]) -> bool:
    """Whether directory holds a finished run with this fingerprint and these arguments."""
    try:
        stamp = json.loads((directory / STAMP).read_text())
        recorded = json.loads((directory / "environment.json").read_text())
    except (OSError, json.JSONDecodeError):
        return False
    if stamp.get("run_args") != run_args or not (directory / "results.jsonl").is_file():
        return False
    return all(recorded.get(k) == fingerprint.get(k) for k in SAME_RUN_KEYS)


def fingerprint_of(python: str, target: str, seed: int, profile: str) -> dict:
    return _python_json(python, f"import json; from harness import env; "
                                f"print(json.dumps(env.fingerprint({target!r}, {seed}, {profile!r})))")


def quick_run(python: str, out: Path, run_args: list[str], label: str) -> None:
    """The quick suite under python into out, unless out already holds it (same fingerprint)."""
    fingerprint = fingerprint_of(python, "llvm", 0, "quick")
    if same_run(out, fingerprint, run_args):
        _say(f"TVM {label}: reusing {out} (a finished run with the same fingerprint and arguments)")
        return
    if out.exists():
        aside = out.with_name(f"{out.name}-{int(out.stat().st_mtime)}")
        _say(f"TVM {label}: {out} holds another run; moved to {aside}")
        out.rename(aside)
    command = [python, "-m", "harness", "run", *run_args, "--out", str(out)]
    _say(f"TVM {label}: + " + " ".join(command))
    status = subprocess.run(command, env=_env(), cwd=ROOT, check=False).returncode
    # 1 is a run that recorded unexpected outcomes: an older release fails the newer one's expectations.
    if status not in (0, 1):
        raise CompatError(f"TVM {label}: harness run exited {status}; see {out}")
    (out / STAMP).write_text(json.dumps({"run_args": run_args, "exit_status": status}, indent=2) + "\n")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m harness.compat", description=__doc__.splitlines()[0])
    parser.add_argument("version", help="an apache-tvm release older than the pinned one, e.g. 0.26.0")
    parser.add_argument("--base-python", default=sys.executable,
                        help="the project's environment (pinned TVM, torch): default this python")
    parser.add_argument("--results", type=Path, default=ROOT / "results")
    parser.add_argument("--envs", type=Path, default=ROOT / ".compat", help="where release environments live")
    parser.add_argument("--jobs", type=int, default=2)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        version = str(Version(args.version))
    except InvalidVersion:
        print(f"compat: error: {args.version!r} is not a TVM release version (e.g. 0.26.0)", file=sys.stderr)
        return BAD_INPUT
    if args.jobs < 1:
        print("compat: error: --jobs must be at least 1", file=sys.stderr)
        return BAD_INPUT
    if shutil.which(args.base_python) is None:
        print(f"compat: error: --base-python {args.base_python}: no such python", file=sys.stderr)
        return BAD_INPUT
    try:
        pinned = imported(args.base_python)["tvm"]
        if Version(pinned) == Version(version):
            print(f"compat: error: {version} is the pinned TVM itself; name an older release", file=sys.stderr)
            return BAD_INPUT
        release_python = release_env(version, args.base_python, args.envs)
        run_args = ["--ops", "--models", "--target", "llvm", "--profile", "quick", "--jobs", str(args.jobs)]
        release_dir, pinned_dir = args.results / f"compat-{version}", args.results / f"compat-{pinned}"
        quick_run(release_python, release_dir, run_args, version)
        quick_run(args.base_python, pinned_dir, run_args, pinned)
        # The diff reads forward in time: the older release is the baseline, whichever was named.
        older, newer = ((release_dir, pinned_dir) if Version(version) < Version(pinned)
                        else (pinned_dir, release_dir))
    except CompatError as err:
        print(f"compat: error: {err}", file=sys.stderr)
        return FAILED
    command = [args.base_python, "-m", "reports.release_diff", str(older), str(newer),
               "--out", str(release_dir / "compat.md")]
    _say("+ " + " ".join(command))
    return subprocess.run(command, env=_env(), cwd=ROOT, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())

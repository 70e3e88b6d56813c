"""Rows' cases kept on disk between runs.

A row's cases are a function of the project's code, the installed torch, hypothesis, numpy and
TVM, the profile, the seed and the row: drawing them again gives the same cases (tests/test_plan.py).
Drawing is most of what a run does before its first case (about 90 s of one core for the quick
profile's ~400 rows, 5 minutes for the nightly's), and every run, `harness check` and test that
builds cases paid it again. Each row's cases are pickled under a key made of all of those, so a
change to any source file of harness/ or opsuite/, or another version of any of those libraries,
builds every row afresh; a file that cannot be read is built again and rewritten.

    HARNESS_PLAN_CACHE=DIR   keep them in DIR (default: $XDG_CACHE_HOME or ~/.cache, then
                             tvm-export-conformance/plans)
    HARNESS_PLAN_CACHE=off   build every row, read and write nothing
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import re
import shutil
import sys
import tempfile
from importlib import metadata
from pathlib import Path

CACHE_ENV = "HARNESS_PLAN_CACHE"
ROOT = Path(__file__).resolve().parent.parent
# Every module a case's draw can run lives here; expectations are attached after the draw but
# are included with the rest, which costs a rebuild after editing them and nothing else.
SOURCES = ("harness", "opsuite")
LIBRARIES = ("torch", "hypothesis", "numpy", "apache-tvm")
# Plans of other code kept beside this code's, the most recently written first: another checkout
# (or the last commit's) may still be using them, and every edit of a source file makes a new key.
KEEP_OTHERS = 4


def directory() -> Path | None:
    """Where plans are kept, or None when the cache is off."""
    chosen = os.environ.get(CACHE_ENV, "").strip()
    if chosen.lower() == "off":
        return None
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "tvm-export-conformance" / "plans"


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


@functools.cache
def code_key() -> str:
    """A digest of the project's sources and the versions of the libraries the draws use."""
    digest = hashlib.sha256(sys.version.encode())
    for name in LIBRARIES:
        digest.update(f"\0{name}={_version(name)}".encode())
    for top in SOURCES:
        for path in sorted((ROOT / top).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(f"\0{path.relative_to(ROOT).as_posix()}\0".encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:24]


def _file(row_id: str, profile: str, seed: int) -> Path | None:
    base = directory()
    if base is None:
        return None
    # Row ids hold dots, brackets and colons: a readable stem, made unique by a digest of the id.
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", row_id)[:80]
    unique = hashlib.sha256(row_id.encode()).hexdigest()[:12]
    return base / code_key() / f"{profile}-{seed}" / f"{stem}-{unique}.pickle"


def load(row_id: str, profile: str, seed: int) -> list | None:
    """The row's cases as last built by this code, or None (not kept, unreadable, cache off)."""
    path = _file(row_id, profile, seed)
    if path is None or not path.exists():
        return None
    try:
        with path.open("rb") as f:
            kept_id, cases = pickle.load(f)
    except Exception:  # noqa: BLE001 - a torn or foreign file is rebuilt, never trusted
        return None
    return cases if kept_id == row_id else None


def store(row_id: str, profile: str, seed: int, cases: list) -> None:
    """Keep the row's cases; a cache that cannot be written costs the next run a rebuild only."""
    path = _file(row_id, profile, seed)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _drop_stale(directory())
        with tempfile.NamedTemporaryFile("wb", dir=path.parent, suffix=".tmp", delete=False) as f:
            pickle.dump((row_id, cases), f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(f.name, path)  # whole or absent: processes building the same row race safely
    except OSError:
        return


@functools.cache
def _drop_stale(base: Path) -> None:
    """Remove other code's plans but the KEEP_OTHERS most recently written (once per process)."""
    others = []
    for other in base.iterdir():
        if other.name != code_key() and other.is_dir():
            try:
                others.append((max(p.stat().st_mtime for p in (other, *other.iterdir())), other))
            except OSError:
                continue
    for _, other in sorted(others, reverse=True)[KEEP_OTHERS:]:
        shutil.rmtree(other, ignore_errors=True)  # another process may be reading it: it redraws

"""The project's requirements against what this environment has: `harness doctor`'s first lines.

The harness can be installed beside a TVM the user already has (`pip install --no-deps -e .`);
pip then checks nothing, so this does: every requirement of pyproject.toml is present and in its
range, or listed with the pip command that adds it. TVM counts as present when `import tvm`
finds one, from wherever (a source build on PYTHONPATH has no pip metadata); TVM, torch and
torchvision outside their pins are not missing, only a different experiment, and said so.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from harness import env

DIST = "tvm-export-conformance"
PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
# Pinned because the coverage denominators are read from them; another version still runs.
PINNED = ("apache-tvm", "torch", "torchvision")
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


@dataclass
class Check:
    name: str
    wanted: str  # the requirement as declared, e.g. "hypothesis>=6.100"
    found: str | None  # the installed version, None when missing
    where: str | None = None  # where it is imported from (TVM)
    state: str = "ok"  # ok | missing | outside (a range not met) | unpinned (a pinned library, another version)
    error: str | None = None  # why a TVM that is there does not import


def declared() -> list[str]:
    """The requirements as pyproject.toml states them (the checkout's), else the installed metadata's."""
    if PYPROJECT.is_file():
        return list(tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"])
    try:
        return [r for r in metadata.requires(DIST) or [] if "extra ==" not in r]
    except metadata.PackageNotFoundError:
        return []


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _installed(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _in_range(requirement: str, version: str) -> bool | None:
    """Whether version meets the requirement's specifier; None when packaging is not installed."""
    try:
        from packaging.requirements import Requirement
    except ImportError:
        return None
    return Requirement(requirement).specifier.contains(version, prereleases=True)


def check(requirements: list[str] | None = None) -> list[Check]:
    out = []
    for wanted in declared() if requirements is None else requirements:
        name = _canonical(_NAME.match(wanted).group(1))
        where = error = None
        if name == "apache-tvm":
            # Imported, not looked up: a TVM that is there but does not load is as good as missing.
            info = env.tvm_build_info()
            where, found, error = info["path"], info["version"], info.get("error")
        else:
            found = _installed(name)
        if found is None:
            out.append(Check(name, wanted, None, where, "missing", error))
            continue
        fits = _in_range(wanted, found) if found else None
        state = "ok" if fits in (True, None) else ("unpinned" if name in PINNED else "outside")
        out.append(Check(name, wanted, found, where, state))
    return out


def pip_command(checks: list[Check]) -> str | None:
    """The pip command that adds what is missing or out of range (never a pinned library: that
    would replace the user's own TVM or torch)."""
    needed = [c.wanted for c in checks if c.name != "apache-tvm" and c.state in ("missing", "outside")]
    return "pip install " + " ".join(f"'{w}'" for w in needed) if needed else None


def lines(checks: list[Check]) -> list[str]:
    out = []
    tvm = next((c for c in checks if c.name == "apache-tvm"), None)
    if tvm is not None:
        if tvm.state == "missing":
            out.append(f"TVM               does not import from {tvm.where}: {tvm.error}" if tvm.where else
                       "TVM               not importable: install apache-tvm or put a TVM build on PYTHONPATH")
        else:
            pin = "" if tvm.state == "ok" else f"; not the pinned {tvm.wanted.split('==')[-1]}: a different experiment"
            out.append(f"TVM               {tvm.found or 'version unknown'} imported from {tvm.where}{pin}")
    for c in checks:
        if c.name != "apache-tvm" and c.state == "unpinned":
            out.append(f"{c.name:<18}{c.found}; not the pinned {c.wanted.split('==')[-1]}: a different experiment")
    bad = [c for c in checks if c.state in ("missing", "outside") and c.name != "apache-tvm"]
    if bad:
        out.append("requirements      missing or out of range: " + ", ".join(
            f"{c.wanted}" + (f" (have {c.found})" if c.found else "") for c in bad))
    else:
        out.append(f"requirements      all {len(checks)} present")
    return out

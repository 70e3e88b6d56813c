"""`harness report DIR --issues`: confirm each bug-report draft's script, write those that reproduce.

The reports plugin renders the drafts (reports never run anything); this side runs each draft's
script once, in a fresh interpreter with a time limit, as the person reading the report would.
A draft reproduces when its script exits non-zero and, where it prints `status: WORD` (every
repro script does), WORD is the status the defect was recorded with. Drafts that reproduce go
to DIR/issues/<bug>-<op>-<status>.md; the others are listed in DIR/issues/index.md, not written.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ISSUES_DIR = "issues"
_STATUS = re.compile(r"^status: (\w+)\s*$", re.M)


@dataclass
class Confirmation:
    reproduces: bool
    detail: str  # one line: what the script ended with


def confirm(script: str, expect_status: str, timeout: float, cwd: Path | None = None) -> Confirmation:
    """Run `script` once with this interpreter; did it fail the way the defect was recorded?"""
    with tempfile.TemporaryDirectory(prefix="harness-issue-") as tmp:
        path = Path(tmp) / "repro.py"
        path.write_text(script)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            p for p in (str(cwd or Path.cwd()), os.environ.get("PYTHONPATH")) if p)}
        try:
            done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                                  timeout=timeout, cwd=cwd, env=env, check=False)
        except subprocess.TimeoutExpired:
            reproduces = expect_status == "timeout"
            return Confirmation(reproduces, f"still running after {timeout:.0f}s")
    statuses = _STATUS.findall(done.stdout)
    if done.returncode < 0:
        ended = f"killed by signal {-done.returncode}"
        return Confirmation(expect_status == "crash", ended)
    if statuses:
        last = statuses[-1]
        return Confirmation(done.returncode != 0 and last == expect_status,
                            f"exit {done.returncode}, status: {last}")
    tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
    return Confirmation(done.returncode != 0, f"exit {done.returncode}: {tail[:200]}")


def write(directory: Path, plugin, timeout: float, echo=print) -> tuple[list[Path], list[str]]:
    """Confirm and write every draft of DIR; returns (written files, lines for the rest).

    A draft (from `plugin.issue_drafts`) has bug_id, name, title, script, expect_status and
    `render(confirmation) -> markdown`."""
    drafts, skipped = plugin.issue_drafts(directory)
    out = Path(directory) / ISSUES_DIR
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("*.md"):
        stale.unlink()  # drafts of an earlier rendering must not outlive their defect
    written, rejected = [], list(skipped)
    for draft in drafts:
        result = confirm(draft.script, draft.expect_status, timeout)
        echo(f"{draft.bug_id}: {'reproduces' if result.reproduces else 'does not reproduce'} ({result.detail})")
        if not result.reproduces:
            rejected.append(f"{draft.bug_id} ({draft.title}): did not reproduce: {result.detail} "
                            f"(expected status: {draft.expect_status})")
            continue
        note = f"Confirmed: run once on the environment above, the script ends with `{result.detail}`."
        path = out / draft.name
        path.write_text(draft.render(note))
        written.append(path)
    index = ["# Bug-report drafts", "", f"{len(written)} written, each confirmed to reproduce:", ""]
    index += [f"- [{p.name}]({p.name})" for p in written] or ["- none"]
    index += ["", "Not written:", ""] + ([f"- {line}" for line in rejected] or ["- none"])
    (out / "index.md").write_text("\n".join(index) + "\n")
    return written, rejected

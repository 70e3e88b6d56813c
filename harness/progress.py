"""What a long run shows while it goes: a live bar on a terminal, plain periodic lines elsewhere.

On a terminal (stdout is a tty) a rich progress bar shows cases done out of the total, the
count per status and an ETA; CI logs get a plain line every `every` cases or `interval`
seconds, whichever comes first, with the same figures. Either way every unexpected outcome
(and, with --verbose, every case) is printed as its own line with its repro, above the bar.
"""

from __future__ import annotations

import atexit
import collections
import sys
import time
from collections.abc import Callable

from harness.case import UNEXPECTED, Case


def eta_text(done: int, total: int, elapsed: float) -> str:
    """Time left at the rate so far: `3m05s`, or `?` before any case has finished."""
    if done <= 0 or total <= done:
        return "?" if done <= 0 else "0s"
    seconds = int(elapsed / done * (total - done))
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"


def counts_text(counts: collections.Counter) -> str:
    return " ".join(f"{status}={n}" for status, n in sorted(counts.items()))


class _Bar:
    """rich's live bar; lines printed through it appear above the bar."""

    def __init__(self, total: int):
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as RichProgress

        self.console = Console()
        self.progress = RichProgress(
            BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[counts]}"),
            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=self.console)
        self.task = self.progress.add_task("cases", total=total, counts="")
        self.progress.start()
        atexit.register(self.stop)  # an interrupted run must not leave the cursor hidden

    def update(self, done: int, counts: collections.Counter) -> None:
        self.progress.update(self.task, completed=done, counts=counts_text(counts))

    def echo(self, line: str) -> None:
        self.console.print(line, markup=False, highlight=False, soft_wrap=True)

    def stop(self) -> None:
        self.progress.stop()


class Progress:
    """The callback `execute` calls per record: counts, the bar or periodic lines, and the
    lines of unexpected outcomes."""

    def __init__(self, total: int, verbose: bool, echo: Callable[[str], None] = print,
                 live: bool | None = None, every: int = 100, interval: float = 60.0):
        self.total, self.verbose = total, verbose
        self.count, self.start = 0, time.monotonic()
        self.every, self.interval, self.last_line = every, interval, time.monotonic()
        self.programs: set[str | None] = set()
        self.counts: collections.Counter = collections.Counter()
        if live is None:
            live = echo is print and sys.stdout.isatty()
        self.bar = _Bar(total) if live else None
        self.echo = self.bar.echo if self.bar else echo

    def __call__(self, case: Case, record: dict) -> None:
        program = record.get("dynamic_case")
        if program is None or program not in self.programs:  # a dynamic program counts once
            self.count += 1
            self.programs.add(program)
        self.counts[record["status"]] += 1
        if self.verbose or record["status"] in UNEXPECTED:
            from harness.runner import format_line, repro_lines

            self.echo(format_line(record))
            if record["status"] in UNEXPECTED:
                for line in repro_lines(record):
                    self.echo(line)
        if self.bar is not None:
            self.bar.update(self.count, self.counts)
            if self.count >= self.total:
                self.bar.stop()
        elif not self.verbose and self._due():
            self.echo(self.line())

    def _due(self) -> bool:
        now = time.monotonic()
        if self.count % self.every == 0 or now - self.last_line >= self.interval or self.count == self.total:
            self.last_line = now
            return True
        return False

    def line(self) -> str:
        elapsed = time.monotonic() - self.start
        return (f"[{self.count}/{self.total} cases, {counts_text(self.counts)}, {elapsed:.0f}s, "
                f"ETA {eta_text(self.count, self.total, elapsed)}]")

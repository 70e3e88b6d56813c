"""A case family: one source of cases, as the engine sees it.

A family is a plain object, found through its entry point (pyproject.toml, group
`harness.cases`: name = the family's name, value = a `Family`). The engine knows families
only through these objects: which command-line option selects each, how to build its cases,
how to shrink its failures, which command rewrites its expectations. Every case a family
builds carries the family's name, and so does every record of it (`family`).

    OP = Family(name="op", option="ops", cases=cases, minimise=minimise,
                update="python -m opsuite.expectations update {results}")
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from harness.case import Case

# The command-line options that select families (`harness run --ops/--models`: a contract),
# in the order their families' cases are planned.
OPTIONS = ("ops", "models")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Family:
    name: str  # recorded in every record's `family`; the entry point's name
    option: str  # the option of OPTIONS that selects it: `--ops` or `--models`
    # cases(profile, seed) -> Iterable[Case]; a family may also take `wanted`, a predicate over
    # op names, and then build only the cases of ops a command's patterns could select.
    cases: Callable[..., Iterable[Case]]
    # minimise(failures, run_one, seed) -> [(case, record)]: shrinks nightly failures (optional)
    minimise: Callable | None = None
    # The command that rewrites the family's expectations from a results directory (`{results}`)
    update: str | None = None
    # The profile `harness list` shows without --profile (the zoo lists every model: nightly)
    list_profile: str = "quick"

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"family name {self.name!r} must be lower-case letters, digits and _")
        if self.option not in OPTIONS:
            raise ValueError(f"family {self.name}: option {self.option!r} is not one of {OPTIONS}")

    def build(self, profile: str, seed: int, wanted: Callable[[str], bool] | None = None) -> list[Case]:
        """The family's cases, each carrying the family's name; `wanted` passed on when taken."""
        kwargs = {}
        if wanted is not None and "wanted" in inspect.signature(self.cases).parameters:
            kwargs["wanted"] = wanted
        return [case if case.family == self.name else dataclasses.replace(case, family=self.name)
                for case in self.cases(profile, seed, **kwargs)]

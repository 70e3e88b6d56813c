"""Results -> coverage matrix, diff against a baseline, rendering (pandas lives here).

Computed from results.jsonl alone; never runs a case. `plugin` is what the engine's
`harness report`/`run`/`merge` commands call through the `harness.reports` entry point.
"""

from reports.plugin import plugin

__all__ = ["plugin"]

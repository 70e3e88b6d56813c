"""Op rows: reductions."""

ROWS = []
NO_CASE: dict[str, str] = {}

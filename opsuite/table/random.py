"""Op rows: random."""

ROWS = []
NO_CASE: dict[str, str] = {}

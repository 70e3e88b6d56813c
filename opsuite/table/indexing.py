"""Op rows: indexing."""

ROWS = []
NO_CASE: dict[str, str] = {}

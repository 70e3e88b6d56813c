"""Op rows: linalg."""

ROWS = []
NO_CASE: dict[str, str] = {}

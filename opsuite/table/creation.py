"""Op rows: creation."""

ROWS = []
NO_CASE: dict[str, str] = {}

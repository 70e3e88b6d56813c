"""Op rows: shape."""

ROWS = []
NO_CASE: dict[str, str] = {}

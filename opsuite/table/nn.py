"""Op rows: nn."""

ROWS = []
NO_CASE: dict[str, str] = {}

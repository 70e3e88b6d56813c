"""coverage.csv: the whole matrix, one line per row, one column per target x dtype cell.

Columns: family, name, denominators (`+`-joined), grade, planned, no_case, cases (own records),
passes, one column per matrix column (the cell text, empty where the row has no case), then
used_by_cases (`passes/cases` of the cases whose graph contains the op), models (how many
model cases use it) and models_using (`name:grade`, `;`-joined).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from reports.matrix import Matrix


def frame(matrix: Matrix) -> pd.DataFrame:
    lines = []
    for row in matrix.rows:
        line = {"family": row.row.family, "name": row.name, "denominators": "+".join(row.row.denominators),
                "grade": row.grade, "planned": row.row.planned, "no_case": row.row.no_case or "",
                "cases": sum(row.own.values()), "passes": row.own.get("pass", 0)}
        line.update({col: (row.cells[col].text if col in row.cells else "") for col in matrix.columns})
        line["used_by_cases"] = f"{row.uses.get('pass', 0)}/{sum(row.uses.values())}" if row.uses else ""
        line["models"] = len(row.models)
        line["models_using"] = ";".join(f"{m}:{g}" for m, g in row.models.items())
        lines.append(line)
    return pd.DataFrame(lines)


def write(matrix: Matrix, path: Path) -> Path:
    frame(matrix).to_csv(path, index=False, lineterminator="\n")
    return path

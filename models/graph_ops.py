"""The ops of each zoo model's exported, decomposed graph (`aten_ops` of its record in a full
CPU run), written by `python -m models.measure --results DIR`: do not edit by hand.

The coverage matrix counts them in its `reached` denominator: ops users' programs meet.
"""

GRAPH_OPS: dict[str, list[str]] = {}

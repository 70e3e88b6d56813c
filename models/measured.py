"""Measured numbers per model, written by `python -m models.measure`: do not edit by hand.

noise:   relative L2 distance of float32 eager from float64 eager on the zoo's weights and input
         (the rounding a deeper network accumulates; the tolerance is derived from it)
seconds: total seconds of the model's case in the last full CPU run (2 cores), for sharding
"""

MEASURED: dict[str, dict[str, float]] = {}

"""The TorchVision model zoo as cases (the `models` entry point of `harness.cases`).

    build.py     the program factory: a model with seeded, calibrated weights, and its inputs
    zoo.py       one row per listed model: input and why, time limit, known failures
    measured.py  per-model numbers: float32 noise (-> tolerance), seconds (-> cost, sharding)
    cases.py     rows -> cases: ids, tolerances, profiles, dynamic-batch variants
    table.py     results.jsonl -> the zoo's markdown table (`python -m models.table DIR...`)
    measure.py   regenerates measured.py (`python -m models.measure --results DIR`)

    harness run --models                      # quick: a handful of small models, for CI
    harness run --models --profile nightly --target llvm --jobs 1 --out DIR --resume
    harness check resnet18                    # a model outside quick needs --profile nightly
"""

from models.cases import cases

__all__ = ["cases"]

"""The TorchVision model zoo as cases: the `model` family (`MODEL`, entry point of `harness.cases`).

    build.py     the program factory: a model with seeded, calibrated weights, and its inputs
    zoo.py       one row per listed model: input and why, time limit
    measured.py  per-model numbers: float32 noise (-> tolerance), seconds (-> cost, sharding)
    cases.py     rows -> cases: ids, tolerances, profiles, dynamic-batch variants
    measure.py   regenerates measured.py (`python -m models.measure --results DIR`) and
                 graph_ops.py, each model's decomposed graph ops (`--graph-ops`: export only, no TVM)
    graph_ops.py the ops users' models reach: the coverage matrix's `reached` denominator

Known failures are data in opsuite/expectations/known_failures/models.toml (one loader for
ops and models); the zoo's results table is `python -m reports.zoo_report DIR...`.

    harness run --models                      # quick: a handful of small models, for CI
    harness run --models --profile nightly --target llvm --jobs 1 --out DIR --resume
    harness check resnet18                    # a model outside quick needs --profile nightly
"""

from harness.family import Family
from models.zoo import profile_models


def _cases(profile: str, seed: int, wanted=None) -> list:
    """models.cases.cases, for the models `wanted` could select; when it selects none (an op's
    name), torchvision is not even imported: that is most of a `harness check OP`'s wait."""
    if wanted is not None and not any(wanted(name) for name in profile_models(profile)):
        return []
    from models.cases import cases

    return cases(profile, seed, wanted)


# `harness list --models` lists every model of the zoo: the nightly profile.
MODEL = Family(name="model", option="models", cases=_cases, list_profile="nightly",
               update="python -m opsuite.expectations update {results}")

__all__ = ["MODEL"]
